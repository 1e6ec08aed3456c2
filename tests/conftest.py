"""Shared fixtures: an isolated HOME, a clean colour environment, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from advisor.cli import main

COLOUR_VARS = ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "NO_COLOR", "TERM", "COLUMNS")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test may write to the real HOME (cookiecutter's replay directory lives there)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in COLOUR_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run the advisor in-process, as `advisor ARGS...`, capturing exit code and streams."""

    def invoke(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file under tmp_path (text or bytes) and return its path."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return make


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pytest_report_header() -> str:
    return f"advisor tests; HOME isolated per test; cwd {os.getcwd()}"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped rules with its own compilation, both where the advisor looks."""
    import shutil

    from advisor import precompiled, resources

    copy = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parent.parent / "rules", copy)
    monkeypatch.setattr(resources, "rules_dir", lambda: copy)
    monkeypatch.setattr(resources, "compiled_path", lambda name: tmp_path / "build" / name)
    assert precompiled.main([]) == 0
    return copy
