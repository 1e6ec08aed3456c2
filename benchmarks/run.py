"""Benchmarks, run on demand (never in CI):  .venv/bin/python benchmarks/run.py [--quick] [--startup]

One command for every figure: start-up, scaffolding, engine throughput here, then the
starters' round trips (benchmarks/starters.py, which needs what scripts/setup installs).

Every figure is a median of repeated runs (with min and max) and a ratio against a baseline
measured in the same run, because absolute times on shared machines drift. Results go to
benchmarks/results.json and are printed as a table; the README quotes them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ANSWERS = ROOT / "examples" / "answers.yml"


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def stats(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "runs": len(samples)}


def compare(name: str, subject: list[str], baseline: list[str], runs: int, prepare: Any = None) -> dict[str, Any]:
    """Run subject and baseline alternately (so drift hits both) and report the ratio of medians."""
    subject_times, baseline_times = [], []
    for _ in range(runs):
        for argv, bucket in ((subject, subject_times), (baseline, baseline_times)):
            with tempfile.TemporaryDirectory() as scratch:
                if prepare:
                    prepare(Path(scratch))
                bucket.append(timed(argv, Path(scratch)))
    result = {
        "name": name,
        "subject": " ".join(subject),
        "baseline": " ".join(baseline),
        "subject_s": stats(subject_times),
        "baseline_s": stats(baseline_times),
    }
    result["ratio"] = result["subject_s"]["median"] / result["baseline_s"]["median"]
    return result


MINIMAL_TYPER = """
import typer
app = typer.Typer()
@app.command()
def main(name: str = typer.Option("x", "--name")) -> None:
    print(name)
app()
"""


def as_installed() -> None:
    """The checkout as a wheel install leaves it: bytecode written, the shipped rules compiled.

    A wheel install does both (pip compiles bytecode; the wheel carries the compiled rules);
    scripts/setup does them for the checkout, but an edit since then makes both stale.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "advisor")], check=True)
    subprocess.run([sys.executable, "-m", "advisor.precompiled"], cwd=ROOT, check=True)


def startup(runs: int) -> list[dict[str, Any]]:
    as_installed()
    floor = [sys.executable, "-c", "import typer"]
    advisor = str(BIN / "advisor")
    minimal = [sys.executable, "-c", MINIMAL_TYPER, "--name", "y"]
    return [
        compare(
            "recommend --format json vs import typer",
            [advisor, "recommend", "--answers", str(ANSWERS), "--format", "json"],
            floor,
            runs,
        ),
        compare("advisor --help vs import typer", [advisor, "--help"], floor, runs),
        compare("a one-option Typer app vs import typer", minimal, floor, runs),
    ]


def scaffolding(runs: int) -> list[dict[str, Any]]:
    advisor = [str(BIN / "advisor"), "new", "acme-live", "--answers", str(ANSWERS)]
    # The same template with its own cookiecutter.json (a hybrid context), no decision, no report.
    bare = [
        str(BIN / "cookiecutter"),
        "--no-input",
        "--config-file",
        os.devnull,
        "--output-dir",
        ".",
        str(ROOT / "templates" / "starter"),
    ]
    home = tempfile.mkdtemp(prefix="bench-home-")
    os.environ["HOME"] = home  # cookiecutter writes its replay file under HOME
    try:
        return [compare("advisor new vs bare cookiecutter --no-input", advisor, bare, runs)]
    finally:
        shutil.rmtree(home, ignore_errors=True)


def random_profiles(bank: Any, count: int, seed: int = 1) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    profiles = []
    for _ in range(count):
        answers = {}
        for question in bank.questions.values():
            if question.type == "bool":
                answers[question.id] = rnd.random() < 0.5
            elif question.type == "int":
                answers[question.id] = rnd.choice([1, 2, 3, 5, 8, 11, 40, 200])
            else:
                answers[question.id] = rnd.choice(question.values)
        profiles.append(answers)
    return profiles


def verdicts_per_second(ruleset: Any, profiles: list[dict[str, Any]], repeats: int = 5) -> dict[str, float]:
    from advisor import engine

    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for answers in profiles:
            engine.decide(ruleset, answers)
        rates.append(len(profiles) / (time.perf_counter() - start))
    return stats(rates)


def scaled(ruleset: Any, factor: int) -> Any:
    """The rule set with every rule copied `factor` times under new ids."""
    from dataclasses import replace

    from advisor.rules import RuleSet

    copies = [replace(rule, id=f"{rule.id}-x{n}") for n in range(factor) for rule in ruleset.rules]
    return RuleSet(ruleset.questions, tuple(copies))


def engine_throughput(quick: bool) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from advisor import advice

    ruleset = advice.load_ruleset()
    base = random_profiles(ruleset.questions, 1000 if quick else 5000)
    baseline = verdicts_per_second(ruleset, base)
    results = [
        {
            "name": "verdicts per second, shipped rules",
            "rules": len(ruleset.rules),
            "profiles": len(base),
            "verdicts_per_s": baseline,
        }
    ]
    for factor in (10, 100):
        bigger = scaled(ruleset, factor)
        profiles = base[: max(50, len(base) // factor)]
        rate = verdicts_per_second(bigger, profiles, repeats=3)
        # Linear in rules: rate x rules stays constant, so this ratio stays near 1.
        linearity = (rate["median"] * len(bigger.rules)) / (baseline["median"] * len(ruleset.rules))
        results.append(
            {
                "name": f"verdicts per second, {factor}x the rules",
                "rules": len(bigger.rules),
                "profiles": len(profiles),
                "verdicts_per_s": rate,
                "rule_evaluations_ratio": linearity,
            }
        )
    for factor in (10, 100):
        many = random_profiles(ruleset.questions, (100 if quick else 500) * factor, seed=factor)
        rate = verdicts_per_second(ruleset, many, repeats=1)
        results.append(
            {
                "name": f"verdicts per second, {factor}x the profiles",
                "rules": len(ruleset.rules),
                "profiles": len(many),
                "verdicts_per_s": rate,
                "rate_ratio": rate["median"] / baseline["median"],
            }
        )
    return results


def main() -> None:
    quick = "--quick" in sys.argv
    runs = 5 if quick else 15
    if "--startup" in sys.argv:  # only the start-up figures, with more runs: they are the noisiest
        for item in startup(3 * runs):
            print(f"{item['name']:<48} ratio {item['ratio']:.2f}  ({item['subject_s']['median'] * 1000:.0f} ms)")
        return
    results = {
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        # Start-up figures are the noisiest (tens of milliseconds each): three times the runs.
        "startup": startup(3 * runs),
        "scaffolding": scaffolding(max(3, runs // 2)),
        "engine": engine_throughput(quick),
    }
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for item in results["startup"] + results["scaffolding"]:
        s, b = item["subject_s"], item["baseline_s"]
        print(
            f"{item['name']:<48} {s['median'] * 1000:7.0f} ms vs {b['median'] * 1000:6.0f} ms"
            f"  ratio {item['ratio']:.2f}  (min {s['min'] * 1000:.0f}, max {s['max'] * 1000:.0f} ms)"
        )
    for item in results["engine"]:
        rate = item["verdicts_per_s"]
        extra = {k: round(v, 2) for k, v in item.items() if k.endswith("ratio")}
        print(
            f"{item['name']:<48} {rate['median']:9.0f}/s  ({item['rules']} rules, {item['profiles']} profiles)"
            f"  {extra or ''}"
        )
    print(f"written: {out}")
    _starters(quick)


def _starters(quick: bool) -> None:
    """The starters' round trips, with the router and browser build that scripts/setup installed."""
    env = {**os.environ}
    env.setdefault("CROSSBAR_BIN", str(ROOT / ".venv-crossbar" / "bin" / "crossbar"))
    env.setdefault("AUTOBAHN_JS", str(ROOT / "tools/node/node_modules/autobahn-browser/autobahn.min.js"))
    argv = [sys.executable, str(ROOT / "benchmarks" / "starters.py"), *(["--quick"] if quick else [])]
    subprocess.run(argv, cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
