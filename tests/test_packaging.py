"""The artefact users install: a light start-up path, and the built wheel working on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("cookiecutter", "celery", "autobahn", "jinja2")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_recommend_json_and_text_import_no_heavy_library(fmt: str) -> None:
    probe = (
        "import sys\n"
        "from advisor.cli import main\n"
        f"code = main(['recommend', '--defaults', '--format', {fmt!r}])\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "sys.stderr.write(repr((code, heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.stderr.strip().splitlines()[-1] == "(0, [])"
    if fmt == "json":
        assert json.loads(done.stdout)["schema"] == "advisor.recommendation/2"
    else:
        assert done.stdout.startswith("Verdict: Neither yet\n")


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "advisor", "--version"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert (done.returncode, done.stdout) == (0, "advisor 0.1.0\n")


@pytest.mark.slow
def test_built_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True)
    wheel = next(dist.glob("advisor-*.whl"))
    env_dir = tmp_path / "clean-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The locked versions, hash-checked, then the wheel alone: what the lock promises, not today's PyPI.
    advice_lock = ROOT / "requirements" / "advice-requirements.txt"
    lock = ["-m", "pip", "install", "-q", "--require-hashes", "--no-deps", "-r", str(advice_lock)]
    subprocess.run([str(python), *lock], check=True, capture_output=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    advisor = str(env_dir / "bin" / "advisor")
    done = subprocess.run(
        [advisor, "recommend", "--set", "browser_clients=push", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=outside,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answers"]["browser_clients"] == "push"
    first_rule = subprocess.run(
        [advisor, "rules", "list"], capture_output=True, text=True, cwd=outside, env=env, check=True
    ).stdout.split()[0]
    shown = subprocess.run(
        [advisor, "rules", "show", first_rule], capture_output=True, text=True, cwd=outside, env=env, check=True
    ).stdout
    # The rules came from inside the installed package, not from this checkout.
    assert "site-packages/advisor/_data/rules/" in shown
    lint = subprocess.run([advisor, "rules", "lint"], capture_output=True, text=True, cwd=outside, env=env, check=False)
    assert lint.returncode == 0, lint.stderr
    # The wheel carries the rules and the guide validated at build time, and the installed advisor uses them.
    probe = (
        "from advisor import precompiled\n"
        "print(precompiled.load_shipped() is not None, precompiled.load_shipped_guide() is not None)"
    )
    used = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=outside, env=env, check=True)
    assert used.stdout == "True True\n"
