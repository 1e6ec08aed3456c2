"""Where the shipped rules/ and templates/ live: inside the installed wheel, or in a checkout.

The wheel maps the repository's top-level rules/ and templates/ to advisor/_data/ (see
pyproject.toml); a source checkout keeps them beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory of shipped data called `name` (rules or templates)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the advisor's {name}/ directory is missing from this installation")


def rules_dir() -> Path:
    return data_dir("rules")


def templates_dir() -> Path:
    return data_dir("templates")


def compiled_path(name: str) -> Path:
    """Where a build-time compilation of the shipped data lives (see advisor.precompiled)."""
    installed = _PACKAGE / "_data"
    return installed / name if installed.is_dir() else _PACKAGE.parent / "build" / name
