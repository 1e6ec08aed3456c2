"""The lock files every generated project ships (templates/starter/templates/locks/).

`bash scripts/lock-starters` writes them (scripts/lock runs it); these tests check that each
variant's locks pin, with hashes, a version inside every range its pyproject.toml declares, that
the project files carry them unchanged, and (slow) that one of them installs on its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from advisor import scaffold

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "starter"
LOCKS = TEMPLATE / "templates" / "locks"
PLACEHOLDER = "starter"  # the project name the locks are compiled with (templates/lock.j2)
SLUG = "lock-check"
VARIANTS = {  # variant: (stack, broker), as in scripts/lock-starters
    "celery-redis": ("celery", "redis"),
    "celery-rabbitmq": ("celery", "rabbitmq"),
    "celery-sqs": ("celery", "sqs"),
    "crossbar": ("crossbar", "redis"),
    "hybrid-redis": ("hybrid", "redis"),
    "hybrid-rabbitmq": ("hybrid", "rabbitmq"),
    "hybrid-sqs": ("hybrid", "sqs"),
}
PYTHON_LOCKS = sorted([f"{variant}-{kind}.txt" for variant in VARIANTS for kind in ("app", "test")] + ["crossbar.txt"])
# One entry of a lock: `name==version [; marker] \`, then its `--hash=...` lines.
ENTRY = re.compile(
    r"^(?P<requirement>[A-Za-z0-9][^\\\n]*?)\s*\\\n(?P<hashes>(?:[ \t]+--hash=\S+\s*\\?\n)+)",
    re.MULTILINE,
)

Pins = dict[str, list[tuple[Version, str, tuple[str, ...]]]]


def pins(text: str) -> Pins:
    """A lock's entries: name -> [(version, marker, hashes)], one per `name==version ; marker` line."""
    found: Pins = {}
    for match in ENTRY.finditer(text):
        requirement = Requirement(match["requirement"])
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"not an exact pin: {match['requirement']}"
        hashes = tuple(re.findall(r"--hash=(\S+)", match["hashes"]))
        entry = (Version(specifier.version), str(requirement.marker or ""), hashes)
        found.setdefault(canonicalize_name(requirement.name), []).append(entry)
    return found


def requirement_lines(text: str) -> list[str]:
    """The lines of a lock that are neither comments, hashes nor blank: one per pinned file."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith((" ", "#"))]


def render(variant: str, into: Path) -> Path:
    """The starter rendered for `variant` (named SLUG) under `into`; the project directory."""
    return render_with(variant, into)


def render_with(variant: str, into: Path, **answers: object) -> Path:
    """Like render(), with some of the other context keys (durable_work, scheduling ...) set."""
    from cookiecutter.generate import generate_files

    stack, broker = VARIANTS[variant]
    defaults = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    context = {
        **defaults,
        "project_slug": SLUG,
        "package_name": SLUG.replace("-", "_"),
        "stack": stack,
        "use_celery": stack in ("celery", "hybrid"),
        "use_crossbar": stack in ("crossbar", "hybrid"),
        "broker": broker,
        "crossbar_version": scaffold.CROSSBAR_VERSION,
        "autobahn_browser_version": scaffold.AUTOBAHN_BROWSER_VERSION,
        **answers,
    }
    return Path(generate_files(repo_dir=str(TEMPLATE), context={"cookiecutter": context}, output_dir=str(into)))


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Every variant, rendered once for this module."""
    base = tmp_path_factory.mktemp("variants")
    yield {variant: render(variant, base / variant) for variant in VARIANTS}


def declared(project: Path) -> tuple[list[Requirement], list[Requirement], list[Requirement]]:
    """(dependencies, the test extra, the build requirements) of a rendered pyproject.toml."""
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    main = [Requirement(text) for text in data["project"]["dependencies"]]
    test = [Requirement(text) for text in data["project"]["optional-dependencies"]["test"]]
    build = [Requirement(text) for text in data["build-system"]["requires"]]
    return main, test, build


def test_the_locks_are_exactly_those_of_the_variants() -> None:
    assert sorted(path.name for path in LOCKS.iterdir()) == sorted([*PYTHON_LOCKS, "web-package-lock.json"])


@pytest.mark.parametrize("name", PYTHON_LOCKS)
def test_every_line_is_an_exact_pin_with_hashes(name: str) -> None:
    """Each lock pins every file exactly (==, sha256 hashes): pip --require-hashes takes nothing else."""
    text = (LOCKS / name).read_text(encoding="utf-8")
    assert text.startswith("# This file was autogenerated by uv via the following command:\n#    bash scripts/lock\n")
    found = pins(text)
    entries = [entry for versions in found.values() for entry in versions]
    assert len(entries) == len(requirement_lines(text)) > 0, "a line that is not a hashed, exact pin"
    for version, _, hashes in entries:
        assert hashes and all(h.startswith("sha256:") and len(h) == len("sha256:") + 64 for h in hashes), version


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_declared_requirement_is_locked_within_its_range(variant: str, projects: dict[str, Path]) -> None:
    """Every requirement of the variant's pyproject.toml (dependencies, test extra, build backend)
    is pinned in its locks at a version the requirement allows: the app lock for what the image
    needs, the test lock for everything."""
    project = projects[variant]
    main, test, build = declared(project)
    app_pins = pins((LOCKS / f"{variant}-app.txt").read_text(encoding="utf-8"))
    test_pins = pins((LOCKS / f"{variant}-test.txt").read_text(encoding="utf-8"))
    checked = []
    for requirements, locks in (
        (main + build, [app_pins, test_pins]),
        (test, [test_pins]),
    ):
        for requirement in requirements:
            for lock in locks:
                versions = lock.get(canonicalize_name(requirement.name), [])
                assert versions, f"{requirement} is not in the lock"
                for version, _, _ in versions:
                    assert requirement.specifier.contains(version, prereleases=True), f"{requirement}: {version}"
                checked.append(requirement.name)
    assert "setuptools" in checked and "pytest" in checked, checked


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_app_lock_is_the_test_lock_without_the_test_tools(variant: str) -> None:
    """The image runs exactly the versions (and files) the tests ran with."""
    app_pins = pins((LOCKS / f"{variant}-app.txt").read_text(encoding="utf-8"))
    test_pins = pins((LOCKS / f"{variant}-test.txt").read_text(encoding="utf-8"))
    assert app_pins, "empty app lock"
    for name, entries in app_pins.items():
        assert sorted(entries) == sorted(test_pins.get(name, [])), name
    assert "pytest" in test_pins and "pytest" not in app_pins


@pytest.mark.parametrize("variant", [variant for variant, (stack, _) in VARIANTS.items() if stack != "crossbar"])
def test_celery_and_kombu_stay_below_5_7(variant: str, projects: dict[str, Path]) -> None:
    """celery/kombu 5.7.0 with acks_late kill the worker when Redis restarts mid-task: excluded, and not locked."""
    main, _, _ = declared(projects[variant])
    ranges = {str(canonicalize_name(requirement.name)): requirement.specifier for requirement in main}
    locked = pins((LOCKS / f"{variant}-test.txt").read_text(encoding="utf-8"))
    for name in ("celery", "kombu"):
        assert not ranges[name].contains("5.7.0"), ranges[name]
        assert all(version < Version("5.7") for version, _, _ in locked[name]), locked[name]


def test_the_router_lock_is_the_crossbar_the_advisor_tests_with() -> None:
    """crossbar == the version the advisor writes into projects, and the same files as the
    advisor's requirements/crossbar-requirements.txt (the router the examples' tests run against)."""
    text = (LOCKS / "crossbar.txt").read_text(encoding="utf-8")
    assert [version for version, _, _ in pins(text)["crossbar"]] == [Version(scaffold.CROSSBAR_VERSION)]
    assert pins(text) == pins((ROOT / "requirements" / "crossbar-requirements.txt").read_text(encoding="utf-8"))


def test_shared_versions_are_those_of_the_advisor_test_environment() -> None:
    """Whatever a starter's test lock shares with requirements/test-requirements.txt has the same version there, so the
    generated examples, whose tests run in the advisor's .venv, test the versions the starters ship."""
    advisor = pins((ROOT / "requirements" / "test-requirements.txt").read_text(encoding="utf-8"))
    compared = 0
    for variant in VARIANTS:
        for name, entries in pins((LOCKS / f"{variant}-test.txt").read_text(encoding="utf-8")).items():
            if name in advisor:
                assert {v for v, _, _ in entries} == {v for v, _, _ in advisor[name]}, (variant, name)
                compared += 1
    assert compared > 0


def test_the_npm_lock_pins_autobahn_browser() -> None:
    lock = json.loads((LOCKS / "web-package-lock.json").read_text(encoding="utf-8"))
    package = lock["packages"]["node_modules/autobahn-browser"]
    assert package["version"] == scaffold.AUTOBAHN_BROWSER_VERSION
    assert package["integrity"].startswith("sha512-")
    assert lock["packages"][""]["dependencies"] == {"autobahn-browser": scaffold.AUTOBAHN_BROWSER_VERSION}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_generated_project_ships_its_variants_locks(variant: str, projects: dict[str, Path]) -> None:
    """The project's requirements/*.txt (and web/package-lock.json) are the variant's locks, named for it."""
    project = projects[variant]

    def named(text: str) -> str:
        text = text.replace(f"{PLACEHOLDER} (pyproject.toml)", f"{SLUG} (pyproject.toml)")
        return text.replace(f'"{PLACEHOLDER}-web"', f'"{SLUG}-web"')

    shipped = {
        "requirements/app.txt": f"{variant}-app.txt",
        "requirements/test.txt": f"{variant}-test.txt",
    }
    if VARIANTS[variant][0] != "celery":
        shipped.update({"requirements/crossbar.txt": "crossbar.txt", "web/package-lock.json": "web-package-lock.json"})
    else:
        assert not (project / "requirements" / "crossbar.txt").exists()
    for relative, lock in shipped.items():
        text = (project / relative).read_text(encoding="utf-8")
        assert text == named((LOCKS / lock).read_text(encoding="utf-8")), relative
    assert f"{SLUG} (pyproject.toml)" in (project / "requirements" / "test.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_test_lock_installs_alone_and_holds_together(tmp_path: Path) -> None:
    """hybrid-redis (the largest): its test lock installs into a fresh venv with --require-hashes --no-deps,
    the project then builds from it without build isolation, and `pip check` finds nothing missing."""
    project = render("hybrid-redis", tmp_path / "project")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}

    def pip(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [python, "-m", "pip", *args], capture_output=True, text=True, env=env, timeout=900, check=False
        )
        assert done.returncode == 0, f"pip {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    pip("install", "--require-hashes", "--no-deps", "-r", str(project / "requirements" / "test.txt"))
    pip("install", "--no-deps", "--no-build-isolation", "-e", str(project))
    assert "No broken requirements found" in pip("check").stdout
    imported = subprocess.run(
        [python, "-c", "import lock_check.backend, lock_check.jobs, pytest, playwright.sync_api, redis"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
