"""The committed examples in generated_examples/: regenerate them with one command.

    .venv/bin/python tests/golden.py

Each example is `advisor new` run on a fixed answers file from generated_examples/answers/,
with a fixed SOURCE_DATE_EPOCH so that the decision record's date never changes. The test
suite regenerates them into a temporary directory and compares every byte and mode.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "generated_examples"
EXPECTED = {"orders-worker": "celery", "live-board": "crossbar", "import-tracker": "hybrid"}
EPOCH = "1767225600"  # 2026-01-01
DATE = "2026-01-01"
REPORT_FILES = {"text": "txt", "markdown": "md", "html": "html", "json": "json", "adr": "adr.md"}
# recommend --evidence: one example's Markdown report with a committed bench document beside its rules.
EVIDENCE = ("import-tracker", ROOT / "tests" / "data" / "bench-quick.json", "evidence.md")


def regenerate(out: Path) -> None:
    """Write every example project under `out` (which must exist)."""
    sys.path.insert(0, str(ROOT))
    from advisor import advice, scaffold

    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    ruleset = advice.load_ruleset()
    for name, stack in EXPECTED.items():
        answers = advice.resolve_answers(ruleset.questions, EXAMPLES / "answers" / f"{name}.yml", [])
        result = advice.advise(ruleset, answers)
        if result.verdict.recommendation != stack:
            raise SystemExit(f"{name}: the rules now say {result.verdict.recommendation}, not {stack}")
        scaffold.generate(scaffold.plan(out / name, name, stack, force=False), result)


def regenerate_reports(out: Path) -> None:
    """Every report format for every example's answers, under `out`."""
    sys.path.insert(0, str(ROOT))
    from advisor import advice
    from advisor.render import DecisionRecord, render

    ruleset = advice.load_ruleset()
    for name in EXPECTED:
        result = advice.advise_given(ruleset, EXAMPLES / "answers" / f"{name}.yml", [])
        for fmt, suffix in REPORT_FILES.items():
            # The example's name is the project its decision record is about (recommend --project).
            text = render(result, fmt, DATE, record=DecisionRecord(project=name))
            (out / f"{name}.{suffix}").write_text(text, encoding="utf-8", newline="\n")
    regenerate_evidence(out)


def regenerate_evidence(out: Path) -> None:
    """The evidence example: what `advisor recommend --evidence FILE --format markdown` writes."""
    from advisor import advice
    from advisor.render import evidence, render

    name, bench_file, suffix = EVIDENCE
    result = advice.advise_given(advice.load_ruleset(), EXAMPLES / "answers" / f"{name}.yml", [])
    text = render(result, "markdown", DATE, bench=evidence.load(bench_file))
    (out / f"{name}.{suffix}").write_text(text, encoding="utf-8", newline="\n")


def main() -> None:
    for name in EXPECTED:
        shutil.rmtree(EXAMPLES / name, ignore_errors=True)
    regenerate(EXAMPLES)
    shutil.rmtree(EXAMPLES / "reports", ignore_errors=True)
    (EXAMPLES / "reports").mkdir()
    regenerate_reports(EXAMPLES / "reports")
    print(f"regenerated {', '.join(EXPECTED)} in {EXAMPLES}")


if __name__ == "__main__":
    main()
