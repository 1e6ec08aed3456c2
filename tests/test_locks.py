"""The committed locks: they cover what pyproject.toml asks for, carry hashes, and are what is installed."""

from __future__ import annotations

import json
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"


def entries(lock: Path) -> list[tuple[Requirement, list[str]]]:
    """Each pinned requirement of a hash-pinned lock (uv's or pip-compile's format) with its hashes."""
    logical = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in logical.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        spec, *hashes = line.split(" --hash=")
        found.append((Requirement(spec.strip()), [h.strip() for h in hashes]))
    assert found, f"{lock}: no requirements"
    return found


def pins(lock: Path) -> dict[str, str]:
    """Package -> the version this machine installs from the lock (markers evaluated here)."""
    chosen = {}
    for requirement, _ in entries(lock):
        if requirement.marker is None or requirement.marker.evaluate():
            (spec,) = requirement.specifier
            chosen[canonicalize_name(requirement.name)] = spec.version
    return chosen


def project() -> dict[str, Any]:
    meta: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return meta


def test_every_entry_is_pinned_exactly_and_hashed() -> None:
    checked = 0
    for lock in sorted(LOCKS.glob("*.txt")):
        for requirement, hashes in entries(lock):
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{lock.name}: {requirement}"
            assert hashes and all(h.startswith("sha256:") for h in hashes), f"{lock.name}: {requirement.name}"
            checked += 1
    assert checked > 100


def test_the_test_lock_satisfies_everything_pyproject_asks_for() -> None:
    meta = project()
    wanted = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        wanted += extra
    locked = pins(LOCKS / "test-requirements.txt")
    assert len(wanted) >= 10
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{text} is not in requirements/test-requirements.txt: run bash scripts/lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), f"{text} vs {locked[name]}"


def test_the_advice_lock_is_the_test_locks_versions() -> None:
    advice, test = pins(LOCKS / "advice-requirements.txt"), pins(LOCKS / "test-requirements.txt")
    assert {"typer", "pyyaml", "jinja2", "cookiecutter"} <= set(advice)
    assert {"celery", "autobahn", "pytest"}.isdisjoint(advice), "advice installs only what advice needs"
    assert {name: test.get(name) for name in advice} == advice


def test_crossbar_is_pinned_exactly_as_asked() -> None:
    asked = [
        Requirement(line)
        for line in (LOCKS / "crossbar.in").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert [str(r.specifier) for r in asked if r.name == "crossbar"] == ["==26.10.1"]
    assert pins(LOCKS / "crossbar-requirements.txt")["crossbar"] == "26.10.1"


def test_this_environment_was_installed_from_the_test_lock() -> None:
    # scripts/setup installs the lock with --require-hashes --no-deps: every locked version is here.
    locked = pins(LOCKS / "test-requirements.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differing = {
        name: (version, installed.get(name)) for name, version in locked.items() if installed.get(name) != version
    }
    assert differing == {}, "run bash scripts/setup test"


def test_the_npm_tools_are_locked() -> None:
    lock = json.loads((ROOT / "tools/node/package-lock.json").read_text(encoding="utf-8"))
    wanted = json.loads((ROOT / "tools/node/package.json").read_text(encoding="utf-8"))["dependencies"]
    assert wanted
    for name, version in wanted.items():
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version
        assert entry["integrity"].startswith("sha512-")
