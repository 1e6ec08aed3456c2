"""`advisor new` and `advisor check`: what lands on disk, and what never does."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import Result

from advisor import render as reports

Run = Callable[..., Result]
HYBRID = ("--set", "browser_clients=rpc", "--set", "durable_work=true", "--set", "scheduling=critical")
# Answers whose verdict has a starter (the defaults say "neither yet": nothing to scaffold).
CELERY = ("--set", "durable_work=true")
ROOT = Path(__file__).resolve().parent.parent


def snapshot(root: Path) -> dict[str, object]:
    """Every path under root with its bytes, mode or link target."""
    state: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_dir():
            state[key] = ("dir", path.stat().st_mode)
        else:
            state[key] = ("file", path.read_bytes(), path.stat().st_mode)
    return state


def test_new_creates_the_verdicts_project_with_its_records(run: Run, in_tmp: Path, isolated_home: Path) -> None:
    result = run("new", "live-imports", *HYBRID)
    project = in_tmp / "live-imports"
    assert result.code == 0, result.err
    assert "hybrid starter" in result.out
    for name in (
        "README.md",
        "pyproject.toml",
        ".env.example",
        "docker-compose.yml",
        ".gitignore",
        "docs/adr/0001-use-hybrid.md",
        ".advisor-answers.yml",
        ".advisor-decision.json",
    ):
        assert (project / name).is_file(), name
    assert not (project / ".env").exists()
    assert list(isolated_home.rglob("*")) == []  # no cookiecutter replay or config under HOME
    assert sorted(p.name for p in in_tmp.iterdir()) == ["live-imports"]  # no staging left behind


def test_saved_answers_reproduce_the_verdict(run: Run, in_tmp: Path) -> None:
    run("new", "live-imports", *HYBRID)
    again = json.loads(run("recommend", "--answers", "live-imports/.advisor-answers.yml", "--format", "json").out)
    decision = json.loads((in_tmp / "live-imports/.advisor-decision.json").read_text(encoding="utf-8"))
    assert again == decision["recommendation"]
    assert decision["stack"] == "hybrid"


def test_the_decision_record_is_madr(run: Run, in_tmp: Path) -> None:
    run("new", "live-imports", *HYBRID)
    adr = (in_tmp / "live-imports/docs/adr/0001-use-hybrid.md").read_text(encoding="utf-8")
    assert "\nstatus: proposed\ndate: " in adr
    assert "\n# Use Hybrid (Celery + Crossbar.io) to distribute live-imports\n" in adr
    for heading in (
        "## Context and Problem Statement",
        "## Decision Drivers",
        "## Considered Options",
        "## Decision Outcome",
        "### Consequences",
        "### Confirmation",
        "## Pros and Cons of the Options",
        "## More Information",
    ):
        assert heading in adr
    assert 'Chosen option: "Hybrid (Celery + Crossbar.io)", because the advisor recommends it' in adr


def test_accept_writes_the_decision_record_as_accepted(run: Run, in_tmp: Path) -> None:
    assert run("new", "orders", *CELERY, "--accept").code == 0
    adr = (in_tmp / "orders/docs/adr/0001-use-celery.md").read_text(encoding="utf-8")
    assert "\nstatus: accepted\n" in adr
    assert "# A proposal" not in adr


@pytest.mark.parametrize(
    "stack,present,absent",
    [
        ("celery", ["src/board/celery_app.py", "src/board/tasks.py"], [".crossbar/config.json", "web/index.html"]),
        ("crossbar", [".crossbar/config.json", "web/index.html", "src/board/backend.py"], ["src/board/celery_app.py"]),
        ("hybrid", ["src/board/celery_app.py", ".crossbar/config.json", "src/board/bridge.py"], []),
    ],
)
def test_stack_switches_choose_the_components(
    run: Run, in_tmp: Path, stack: str, present: list[str], absent: list[str]
) -> None:
    assert run("new", "board", "--defaults", "--stack", stack).code == 0
    files = {str(p.relative_to(in_tmp / "board")) for p in (in_tmp / "board").rglob("*") if p.is_file()}
    assert set(present) <= files
    assert not set(absent) & files
    assert files
    for path in (in_tmp / "board").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "{{" not in text or path.suffix in (".js", ".html"), path
            assert path.stat().st_mode & 0o777 in (0o644, 0o755)


def test_dry_run_prints_the_tree_and_writes_nothing(run: Run, in_tmp: Path) -> None:
    before = snapshot(in_tmp)
    result = run("new", "board", "--defaults", "--stack", "crossbar", "--dry-run")
    assert result.code == 0
    assert "  .crossbar/config.json" in result.out.splitlines()
    assert snapshot(in_tmp) == before


def test_a_non_empty_target_is_refused_and_left_alone(run: Run, in_tmp: Path) -> None:
    (in_tmp / "board").mkdir()
    (in_tmp / "board" / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(in_tmp)
    result = run("new", "board", "--defaults", *CELERY)
    assert result.code == 3
    assert "not empty; pass --force" in result.err
    assert snapshot(in_tmp) == before


def test_an_empty_existing_target_is_filled(run: Run, in_tmp: Path) -> None:
    (in_tmp / "board").mkdir()
    assert run("new", "board", "--defaults", *CELERY).code == 0
    assert (in_tmp / "board" / "README.md").is_file()


def test_force_adds_files_and_keeps_the_users_own(run: Run, in_tmp: Path) -> None:
    (in_tmp / "board").mkdir()
    (in_tmp / "board" / "notes.txt").write_text("mine", encoding="utf-8")
    (in_tmp / "board" / "README.md").write_text("old", encoding="utf-8")
    assert run("new", "board", "--defaults", *CELERY, "--force").code == 0
    assert (in_tmp / "board" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (in_tmp / "board" / "README.md").read_text(encoding="utf-8") != "old"
    assert sorted(p.name for p in in_tmp.iterdir()) == ["board"]


def test_force_never_writes_through_a_symlink(run: Run, in_tmp: Path) -> None:
    victim = in_tmp / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (in_tmp / "board").mkdir()
    (in_tmp / "board" / "README.md").symlink_to(victim)
    before = snapshot(in_tmp)
    result = run("new", "board", "--defaults", *CELERY, "--force")
    assert result.code == 3
    assert "symlink" in result.err
    assert snapshot(in_tmp) == before


def test_a_symlinked_or_file_target_is_refused(run: Run, in_tmp: Path) -> None:
    (in_tmp / "real").mkdir()
    (in_tmp / "board").symlink_to(in_tmp / "real")
    (in_tmp / "plain").write_text("x", encoding="utf-8")
    before = snapshot(in_tmp)
    assert run("new", "board", "--defaults", *CELERY).code == 3
    assert run("new", "plain", "--defaults", *CELERY).code == 3
    assert snapshot(in_tmp) == before


@pytest.mark.parametrize(
    "name",
    [
        "../escaped",
        "a/b",
        "{{ 7*7 }}",
        "celery",
        "con",
        "My Project",
        "-rf",
        "x" * 65,
        "{{ cycler.__init__.__globals__.os.getpid() }}",
        "café",
    ],
)
def test_bad_project_names_are_refused_before_anything_is_rendered(run: Run, in_tmp: Path, name: str) -> None:
    before = snapshot(in_tmp.parent)
    result = run("new", "target", "--defaults", *CELERY, "--name", name)
    assert result.code == 2
    assert "project name" in result.err
    assert snapshot(in_tmp.parent) == before


def test_a_failure_mid_render_leaves_nothing(run: Run, in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reports, "render", broken)
    result = run("new", "board", "--defaults", *CELERY)
    assert result.code == 1
    assert list(in_tmp.iterdir()) == []


def test_ctrl_c_mid_render_exits_130_and_leaves_nothing(
    run: Run, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(reports, "render", interrupted)
    assert run("new", "board", "--defaults", *CELERY).code == 130
    assert list(in_tmp.iterdir()) == []


def test_sigterm_mid_render_exits_143_and_leaves_nothing(
    run: Run, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def terminated(*args: object, **kwargs: object) -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        return ""

    monkeypatch.setattr(reports, "render", terminated)
    assert run("new", "board", "--defaults", *CELERY).code == 143
    assert list(in_tmp.iterdir()) == []


def test_concurrent_runs_into_one_target_never_interleave(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "advisor", "new", "board", "--defaults", *CELERY]
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for attempt in range(3):
        workdir = tmp_path / f"try{attempt}"
        workdir.mkdir()
        procs = [
            subprocess.Popen(args, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        codes = sorted(proc.wait(timeout=60) for proc in procs)
        assert codes == [0, 3]
        assert sorted(p.name for p in workdir.iterdir()) == ["board"]
    single = snapshot(tmp_path / "try0" / "board")
    assert snapshot(tmp_path / "try1" / "board").keys() == single.keys()


def test_new_writes_yes_and_no_and_check_reads_them_back(run: Run, in_tmp: Path) -> None:
    run("new", "board", *HYBRID)
    saved = (in_tmp / "board" / ".advisor-answers.yml").read_text(encoding="utf-8")
    assert "durable_work: yes" in saved and "retries: no" in saved
    assert yaml.safe_load(saved)["answers"]["durable_work"] is True  # YAML 1.1 readers get a boolean
    assert "The decision still holds." in run("check", "board").out


def test_check_reads_answers_written_as_true_and_false(run: Run, in_tmp: Path) -> None:
    run("new", "board", *HYBRID)
    path = in_tmp / "board" / ".advisor-answers.yml"
    text = re.sub(
        r": no$", ": false", re.sub(r": yes$", ": true", path.read_text(encoding="utf-8"), flags=re.M), flags=re.M
    )
    path.write_text(text, encoding="utf-8")
    assert "durable_work: true" in path.read_text(encoding="utf-8")
    result = run("check", "board", "--exit-code")
    assert (result.code, result.err) == (0, "")
    assert "The decision still holds." in result.out


def test_check_says_the_decision_holds(run: Run, in_tmp: Path) -> None:
    run("new", "board", *HYBRID)
    result = run("check", "board")
    assert result.code == 0
    assert "The decision still holds." in result.out
    assert "No rule that decided it has changed." in result.out


def test_check_reports_drift_and_the_rules_behind_it(run: Run, in_tmp: Path) -> None:
    run("new", "board", *HYBRID)
    org = in_tmp / "org"
    org.mkdir()
    (org / "policy.yaml").write_text(
        "version: 1\nrules:\n  - id: org-celery-only\n    title: We run Celery only\n"
        "    when: {team_size: {at_least: 1}}\n    effects: {celery: 5, hybrid: -5}\n"
        "    because: Platform policy.\n    sources: [https://intranet.example.org/adr/7]\n",
        encoding="utf-8",
    )
    result = run("check", "board", "--rules", str(org), "--exit-code")
    assert result.code == 1
    assert "The decision no longer holds: hybrid -> celery." in result.out
    assert "  + org-celery-only: We run Celery only (fires now)" in result.out
    # The answers are as they were: the cause is named as the rules, and only the rules.
    assert "The rules now recommend celery for the same answers (they recommended hybrid)." in result.out
    assert "answers changed" not in result.out
    assert run("check", "board", "--rules", str(org)).code == 0


def test_check_outside_a_generated_project_is_an_input_error(run: Run, in_tmp: Path) -> None:
    result = run("check", str(in_tmp))
    assert result.code == 2
    assert "no .advisor-answers.yml" in result.err


def test_check_on_a_missing_directory_says_so(run: Run, in_tmp: Path) -> None:
    missing = run("check", "bord")
    assert (missing.code, missing.out, missing.err) == (2, "", "bord: no such directory\n")
    (in_tmp / "notes.txt").write_text("x", encoding="utf-8")
    a_file = run("check", "notes.txt")
    assert (a_file.code, a_file.err) == (2, "notes.txt: not a directory; pass the project's directory\n")


def test_check_names_changed_answers_as_the_cause(run: Run, in_tmp: Path) -> None:
    run("new", "jobs", *CELERY)
    answers = in_tmp / "jobs" / ".advisor-answers.yml"
    answers.write_text(
        answers.read_text(encoding="utf-8").replace("browser_clients: none", "browser_clients: rpc"), encoding="utf-8"
    )
    result = run("check", "jobs", "--exit-code")
    assert result.code == 1
    assert "The rules still recommend celery for the same answers." in result.out
    assert "The answers changed since then: browser_clients none -> rpc." in result.out
    assert "With the answers as they are now, the advisor recommends hybrid" in result.out
    assert "The rules now recommend" not in result.out
    assert "The decision no longer holds: celery -> hybrid." in result.out


def test_check_respects_a_stack_chosen_against_the_verdict(run: Run, in_tmp: Path) -> None:
    run("new", "live", *CELERY, "--stack", "crossbar")
    result = run("check", "live", "--exit-code")
    assert result.code == 0
    assert "live: built as crossbar by choice (advisor new --stack); the advisor recommended celery then." in result.out
    assert "The decision still holds: crossbar was chosen over celery, and celery is still the advice." in result.out
    assert "no longer holds" not in result.out
    # A different verdict from the one the choice was made against is news again.
    answers = in_tmp / "live" / ".advisor-answers.yml"
    answers.write_text(
        answers.read_text(encoding="utf-8").replace("browser_clients: none", "browser_clients: rpc"), encoding="utf-8"
    )
    moved = run("check", "live", "--exit-code")
    assert moved.code == 1
    assert "The decision no longer holds: crossbar -> hybrid." in moved.out


def test_check_reads_a_project_made_by_an_earlier_version(run: Run, tmp_path: Path) -> None:
    # The answers and decision advisor 0.1.0 wrote with advisor.recommendation/1 (three options).
    project = tmp_path / "old"
    shutil.copytree(ROOT / "tests" / "data" / "v1-project", project)
    stored = json.loads((project / ".advisor-decision.json").read_text(encoding="utf-8"))
    assert stored["recommendation"]["schema"] == "advisor.recommendation/1"
    result = run("check", str(project), "--exit-code")
    assert (result.code, result.err) == (0, "")
    assert "built as celery; the advisor recommended celery then." in result.out
    assert "The decision still holds." in result.out
