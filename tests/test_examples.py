"""generated_examples/: byte-identical to a fresh regeneration, and each passes its own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import golden
import pytest

ROOT = golden.ROOT


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", list(golden.EXPECTED))
def test_committed_example_matches_a_fresh_regeneration(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(golden, "EXPECTED", {name: golden.EXPECTED[name]})
    golden.regenerate(tmp_path)
    fresh, committed = tree(tmp_path / name), tree(golden.EXAMPLES / name)
    assert sorted(fresh) == sorted(committed), "file list differs: run .venv/bin/python tests/golden.py"
    changed = [path for path in fresh if fresh[path] != committed[path]]
    assert changed == [], "regenerating changed these files: run .venv/bin/python tests/golden.py"


def _external(variable: str, default: Path, what: str) -> str:
    path = Path(os.environ.get(variable, str(default)))
    if not path.exists():
        pytest.fail(f"{what} not found at {path}: run `bash scripts/test` (it installs it) or set {variable}")
    return str(path)


def example_env() -> dict[str, str]:
    """The example's own variables, pointing at what scripts/setup installed."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server not found: run `bash scripts/test` or apt-get install redis-server")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
    env["CROSSBAR_BIN"] = _external("ADVISOR_CROSSBAR", ROOT / ".venv-crossbar/bin/crossbar", "crossbar")
    env["AUTOBAHN_JS"] = _external(
        "ADVISOR_AUTOBAHN_JS",
        ROOT / "tools/node/node_modules/autobahn-browser/autobahn.min.js",
        "autobahn.min.js (npm autobahn-browser)",
    )
    env["CHROMIUM_BIN"] = _external("ADVISOR_CHROMIUM", Path("/usr/bin/chromium"), "chromium")
    return env


@pytest.mark.slow
@pytest.mark.parametrize("name", list(golden.EXPECTED))
def test_example_passes_its_own_test_suite(name: str, tmp_path: Path) -> None:
    # A copy, so that caches and run directories never land in the committed tree.
    project = tmp_path / name
    shutil.copytree(golden.EXAMPLES / name, project)
    env = example_env()
    env["PYTHONPATH"] = str(project / "src")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.splitlines()[-1]
    assert " passed" in summary
    # The suites never skip (a missing program fails them), and nothing may pass by being left out.
    for outcome in ("skipped", "xfailed", "xpassed", "deselected", "failed", "error"):
        assert outcome not in summary, summary
