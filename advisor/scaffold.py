"""`advisor new`: answers -> cookiecutter context -> a staged project moved into place in one step.

Generation is all-or-nothing (docs/reliability.md, C5-C6, D6-D12): the project is rendered into
a staging directory beside the target, then renamed into place. A failure, Ctrl-C or
SIGTERM removes the staging directory; a non-empty target is refused unless --force; a
symlink in the target is never written through. Names are validated before anything is
rendered, and no user text is ever rendered as a template.
"""

from __future__ import annotations

import errno
import json
import keyword
import os
import re
import shutil
import signal
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import __version__, resources
from advisor import answers as answers_mod
from advisor.advice import Advice, to_json_data
from advisor.errors import AdvisorError, InputError, RefusedError
from advisor.rules import STACKS
from advisor.termination import raising_on_termination

NOTHING_TO_SCAFFOLD = (
    "the verdict is 'neither yet': no stated need calls for a distributed framework, so there is "
    "nothing to scaffold; keep the work in your web app, its own background tasks and cron. "
    "For a starter anyway, pass --stack celery, crossbar or hybrid (the verdict's flips say "
    "which answers would call for each)"
)
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_NAME = 64
CROSSBAR_VERSION = "26.10.1"
AUTOBAHN_BROWSER_VERSION = "22.11.1"
# Package names that would shadow what the starter imports (celery#2243) or the stdlib.
SHADOWED = {
    "advisor",
    "amqp",
    "asyncio",
    "autobahn",
    "billiard",
    "celery",
    "cookiecutter",
    "crossbar",
    "json",
    "kombu",
    "logging",
    "os",
    "playwright",
    "pytest",
    "redis",
    "site",
    "sys",
    "test",
    "tests",
    "twisted",
    "txaio",
    "typing",
    "vine",
    "yaml",
}
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


class WriteError(AdvisorError):
    """The file system refused a write (exit 1); nothing was left behind."""


@dataclass(frozen=True)
class Plan:
    """Where and what `advisor new` will generate, checked before anything is written."""

    target: Path
    slug: str
    package: str
    stack: str
    force: bool = False
    accepted: bool = False  # the decision record's status: proposed unless `--accept`


def validate_name(name: str) -> tuple[str, str]:
    """Return (slug, package name) or raise InputError saying what is wrong."""
    hint = "use lowercase letters, digits and single hyphens, starting with a letter, e.g. order-service"
    if not SLUG.match(name) or len(name) > MAX_NAME:
        raise InputError(f"invalid project name {name!r} ({hint}; at most {MAX_NAME} characters)")
    package = name.replace("-", "_")
    if package in SHADOWED or keyword.iskeyword(package):
        raise InputError(f"project name {name!r} would shadow the Python module '{package}'; choose another")
    if name in WINDOWS_RESERVED:
        raise InputError(f"project name {name!r} is a reserved file name on Windows; choose another")
    return name, package


def plan(target: Path, name: str | None, stack: str, force: bool, accepted: bool = False) -> Plan:
    """Check the target and the name before anything is rendered."""
    if stack not in STACKS:
        raise InputError(f"unknown stack {stack!r} (allowed: {', '.join(STACKS)})")
    _check_target(target, force)
    slug, package = validate_name(name if name is not None else target.name)
    return Plan(target, slug, package, stack, force, accepted)


def _check_target(target: Path, force: bool) -> None:
    if target.is_symlink():
        raise RefusedError(f"{target}: is a symlink; refusing to generate through it")
    if target.exists() and not target.is_dir():
        raise RefusedError(f"{target}: exists and is not a directory")
    resolved = target.resolve()
    if resolved in (Path("/"), Path.home().resolve()) or resolved in resources.templates_dir().resolve().parents:
        raise RefusedError(f"{target}: refusing to generate into {resolved}")
    if not resolved.parent.is_dir():
        raise InputError(f"{target}: the parent directory {resolved.parent} does not exist")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise RefusedError(f"{target}: directory is not empty; pass --force to add the starter's files to it")


def context(plan_: Plan, advice: Advice) -> dict[str, Any]:
    """The cookiecutter context (docs/starters.md): validated values only, never free text from users."""
    answers = advice.answers
    return {
        "project_slug": plan_.slug,
        "package_name": plan_.package,
        "stack": plan_.stack,
        "use_celery": plan_.stack in ("celery", "hybrid"),
        "use_crossbar": plan_.stack in ("crossbar", "hybrid"),
        "broker": answers["existing_broker"] if answers["existing_broker"] != "none" else "redis",
        "scheduling": answers["scheduling"],
        "durable_work": answers["durable_work"],
        "retries": answers["retries"],
        "rate_limits": answers["rate_limits"],
        "job_duration": answers["job_duration"],
        "verdict": advice.verdict.recommendation,
        "confidence": advice.verdict.confidence,
        "why": [{"title": rule.title, "rule": rule.id} for rule in advice.verdict.fired[:5]],
        "adr_file": adr_path(plan_.stack),
        "crossbar_version": CROSSBAR_VERSION,
        "autobahn_browser_version": AUTOBAHN_BROWSER_VERSION,
    }


def adr_path(stack: str) -> str:
    return f"docs/adr/0001-use-{stack}.md"


def render(plan_: Plan, advice: Advice, into: Path) -> Path:
    """Render the whole project under `into`; return the project directory."""
    from cookiecutter.generate import generate_files

    from advisor.render import DecisionRecord
    from advisor.render import render as render_report

    # The low-level API: no prompts (whose rendering evaluates answers as Jinja), no user
    # config, and no replay file under $HOME.
    project = Path(
        generate_files(
            repo_dir=str(resources.templates_dir() / "starter"),
            context={"cookiecutter": context(plan_, advice)},
            output_dir=str(into),
            accept_hooks=True,
        )
    )
    record = DecisionRecord(plan_.slug, plan_.accepted)
    _write(project / adr_path(plan_.stack), render_report(advice, "adr", record=record, chosen=plan_.stack))
    _write(project / ".advisor-answers.yml", answers_mod.dump(advice.answers))
    decision = {
        "schema": "advisor.decision/1",
        "advisor": __version__,
        "stack": plan_.stack,
        "recommendation": to_json_data(advice),
    }
    _write(project / ".advisor-decision.json", json.dumps(decision, indent=2, ensure_ascii=False) + "\n")
    _normalise_modes(project)
    return project


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _normalise_modes(project: Path) -> None:
    """Modes independent of umask and checkout: dirs 0755, executables 0755, other files 0644."""
    for path in sorted(project.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
        elif path.is_file():
            executable = path.stat().st_mode & stat.S_IXUSR
            path.chmod(0o755 if executable else 0o644)


def file_tree(project: Path) -> list[str]:
    return sorted(str(path.relative_to(project)) for path in project.rglob("*") if path.is_file())


def dry_run(plan_: Plan, advice: Advice) -> list[str]:
    """The files `generate` would write; renders into a throwaway directory, not near the target."""
    with tempfile.TemporaryDirectory(prefix="advisor-dry-run-") as scratch:
        return file_tree(render(plan_, advice, Path(scratch)))


def generate(plan_: Plan, advice: Advice) -> list[str]:
    """Render into staging beside the target, then move into place in one step."""
    parent = plan_.target.resolve().parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=".advisor-new-", dir=parent))
    except OSError as exc:
        raise WriteError(f"{parent}: cannot write here ({exc.strerror}); nothing was written") from None
    try:
        with raising_on_termination("nothing was written"):
            project = render(plan_, advice, staging)
            files = file_tree(project)
            _move_into_place(project, plan_.target, plan_.force)
        return files
    except OSError as exc:
        # A full disk, a permission error: the staging directory goes, the target stays as it was.
        where = exc.filename or plan_.target
        raise WriteError(f"{where}: {exc.strerror or exc}; nothing was written") from None
    finally:
        _remove_quietly(staging)


def new(
    directory: Path,
    advice: Advice,
    stack: str | None,
    name: str | None,
    force: bool,
    dry_run_only: bool,
    accepted: bool,
) -> list[str]:
    """`advisor new`: the starter for the verdict (or the chosen stack), or with `dry_run_only`
    the files it would hold; returns the lines that tell the user what was done."""
    from advisor.render import view

    view.source_date_epoch()  # the decision record's date: a bad SOURCE_DATE_EPOCH stops us before any file
    chosen = stack or advice.verdict.recommendation
    if chosen == "neither":
        raise InputError(NOTHING_TO_SCAFFOLD)
    plan_ = plan(directory, name, chosen, force, accepted=accepted)
    if dry_run_only:
        return [f"would create {directory} ({chosen}):", *(f"  {path}" for path in dry_run(plan_, advice))]
    return created_lines(directory, chosen, len(generate(plan_, advice)))


def created_lines(directory: Path, stack: str, files: int) -> list[str]:
    """What was made and the two commands to try it, as `advisor new` prints them."""
    return [
        f"created {directory}: {stack} starter, {files} files",
        f"  decision record: {directory}/{adr_path(stack)}",
        f"  run it:  cd {directory} && bash scripts/run",
        f"  test it: cd {directory} && bash scripts/test",
    ]


def _remove_quietly(path: Path) -> None:
    # A second Ctrl-C during cleanup must not leave staging behind.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _move_into_place(project: Path, target: Path, force: bool) -> None:
    if not target.exists() or not any(target.iterdir()):
        try:
            # rename(2) is atomic and replaces only an empty directory: a concurrent run loses.
            os.rename(project, target)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            raise RefusedError(f"{target}: appeared or filled up while generating; nothing was written") from None
        return
    if not force:
        # Another run filled the target after our checks: it wins, we write nothing.
        raise RefusedError(f"{target}: filled up while generating; nothing was written")
    _merge(project, target)


def _merge(project: Path, target: Path) -> None:
    """--force into a non-empty target: check every planned path first, then replace file by file."""
    files = [path.relative_to(project) for path in sorted(project.rglob("*")) if path.is_file()]
    for relative in files:
        _refuse_unsafe(target, relative)
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(project / relative, destination)


def _refuse_unsafe(target: Path, relative: Path) -> None:
    current = target
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise RefusedError(f"{current}: is a symlink; refusing to write through it (nothing was written)")
    if current.is_dir():
        raise RefusedError(f"{current}: is a directory where the starter has a file (nothing was written)")
