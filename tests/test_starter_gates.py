"""Every variant of the starter passes its own gates, not only the three generated examples.

scripts/gates runs ruff and mypy over generated_examples/ (celery + redis, crossbar, hybrid +
redis); the other brokers, and the answers that leave parts of the code out, are rendered here
and checked the same way, each with the settings of its own pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_starter_locks import VARIANTS, render_with

# Two sets of answers: everything the template can switch on, and as little as it allows.
FLAGS = {
    "all": {"durable_work": True, "retries": True, "rate_limits": True, "scheduling": "critical"},
    "none": {"durable_work": False, "retries": False, "rate_limits": False, "scheduling": "none"},
}
CASES = [(variant, flags) for variant in VARIANTS for flags in FLAGS]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    base = tmp_path_factory.mktemp("gated")
    return {
        (variant, flags): render_with(variant, base / f"{variant}-{flags}", **FLAGS[flags]) for variant, flags in CASES
    }


def run(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=project, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(("variant", "flags"), CASES)
def test_ruff_check_and_format_pass(variant: str, flags: str, rendered: dict[tuple[str, str], Path]) -> None:
    project = rendered[variant, flags]
    checked = run(project, "ruff", "check", "--no-cache", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = run(project, "ruff", "format", "--check", "--no-cache", ".")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "flags"), CASES)
def test_mypy_passes(
    variant: str, flags: str, rendered: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = rendered[variant, flags]
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"  # shared: the libraries are analysed once
    typed = run(project, "mypy", "--cache-dir", str(cache), "src", "tests")
    assert typed.returncode == 0, typed.stdout + typed.stderr
