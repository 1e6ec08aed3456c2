"""The cases of docs/reliability.md not already proved elsewhere (`rel::` there)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import golden
import pytest
import yaml
from conftest import Result

from advisor import render as reports
from advisor import scaffold, wizard

Run = Callable[..., Result]
# Answers whose verdict has a starter (the defaults say "neither yet": nothing to scaffold).
CELERY = ("--set", "durable_work=true")
ROOT = Path(__file__).resolve().parent.parent


def advisor_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload]


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# A. YAML files


@pytest.mark.parametrize("text,what", [("- a\n- b\n", "list"), ("42\n", "integer")])
def test_a8_a_top_level_that_is_not_a_mapping_is_located(run: Run, tmp_path: Path, text: str, what: str) -> None:
    path = tmp_path / "answers.yml"
    path.write_text(text, encoding="utf-8")
    result = run("recommend", "--answers", str(path))
    assert result.code == 2
    assert result.err == f"{path}:1:1: error[wrong-type]: the answers file must be a mapping, not {what}\n"


def test_a16_fifty_thousand_levels_exit_2_without_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    path.write_text("version: 1\nanswers: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    done = advisor_process("recommend", "--answers", str(path), cwd=tmp_path)
    assert done.returncode == 2
    # Which check stops it first (our depth limit or libyaml's) is the parser's business;
    # the promise is one located diagnostic on line 2 and no traceback.
    assert re.fullmatch(rf"{re.escape(str(path))}:2:\d+: error\[[a-z-]+\]: [^\n]+\n", done.stderr)


def test_a17_a_device_is_refused_without_reading_it(run: Run) -> None:
    result = run("recommend", "--answers", "/dev/zero")
    assert (result.code, result.err) == (2, "/dev/zero: not a regular file\n")


def test_a26_odd_entries_in_a_rules_directory(run: Run, tmp_path: Path) -> None:
    rules = tmp_path / "org"
    rules.mkdir()
    (rules / "backup.yaml~").write_text("not: [valid", encoding="utf-8")
    (rules / "folder.yaml").mkdir()
    assert run("recommend", "--defaults", "--rules", str(rules)).code == 0  # both are passed over
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("version: 1\nrules: []\n", encoding="utf-8")
    (rules / "link.yaml").symlink_to(outside)
    result = run("recommend", "--defaults", "--rules", str(rules))
    assert result.code == 2
    assert result.err == f"{rules}/link.yaml: points outside {rules}; not read\n"


# B. Answer values


@pytest.mark.parametrize(
    "name", ["x; touch PWNED", "$(touch PWNED)", "a\nb", "class", "nul", "1abc", "", " ", "[bold]x[/]", "a\\b", "name."]
)
def test_b_hostile_project_names_are_refused(run: Run, in_tmp: Path, name: str) -> None:
    result = run("new", "target", "--defaults", *CELERY, "--name", name)
    assert result.code == 2
    assert "project name" in result.err
    assert listing(in_tmp) == []


@pytest.mark.parametrize(
    "pair,message",
    [
        ("team_size=0", "0 is out of range"),
        ("team_size=-1", "-1 is out of range"),
        ("team_size=1000000000", "1000000000 is out of range"),
        ("latency=", "'' is not a choice"),
        ("durable_work=maybe", "expected yes or no, not text 'maybe'"),
    ],
)
def test_b10_b14_out_of_range_and_empty_values(run: Run, pair: str, message: str) -> None:
    result = run("recommend", "--set", pair)
    assert result.code == 2
    assert message in result.err and result.err.startswith(f"--set {pair}:1:")


# C. CLI, terminal, signals, environment


def test_c2_end_of_input_in_the_wizard_exits_2(run: Run, monkeypatch: pytest.MonkeyPatch, in_tmp: Path) -> None:
    class Ended(wizard.PlainAsker):
        def ask(self, question: object, step: object) -> object:
            raise EOFError

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(wizard, "terminal_asker", lambda term: Ended())
    result = run("wizard", "--save-answers", "a.yml")
    assert result.code == 2
    assert "input ended before the wizard finished; nothing was written" in result.err
    assert listing(in_tmp) == []


def test_c6_sighup_mid_generation_exits_129_and_leaves_nothing(
    run: Run, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hang_up(*args: object, **kwargs: object) -> str:
        os.kill(os.getpid(), signal.SIGHUP)
        return ""

    monkeypatch.setattr(reports, "render", hang_up)
    assert run("new", "board", "--defaults", *CELERY).code == 129
    assert listing(in_tmp) == []


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LANG": "C", "LC_ALL": "C"}, {"COLUMNS": "20"}])
def test_c9_odd_encodings_and_widths_still_print(tmp_path: Path, env: dict[str, str]) -> None:
    for fmt in ("text", "markdown"):
        done = advisor_process(
            "recommend",
            "--answers",
            str(golden.EXAMPLES / "answers/import-tracker.yml"),
            "--format",
            fmt,
            cwd=tmp_path,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert "Verdict" in done.stdout
    assert done.stderr == ""


def test_c10_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    shell = f"{sys.executable} -m advisor rules list | head -1"
    done = subprocess.run(
        ["bash", "-c", shell],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["recommend", "--help"], ["rules", "lint"]])
def test_c15_c17_no_files_anywhere_even_with_a_missing_home(tmp_path: Path, args: list[str]) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for env in ({"HOME": str(home)}, {"HOME": "/nonexistent", "XDG_CONFIG_HOME": ""}):
        done = advisor_process(*args, cwd=work, env=env)
        assert done.returncode == 0, done.stderr
    assert listing(tmp_path) == ["home", "work"]


def test_e8_stdout_closed_is_a_clear_runtime_error(tmp_path: Path) -> None:
    shell = f"{sys.executable} -m advisor recommend --defaults >&-"
    done = subprocess.run(
        ["bash", "-c", shell],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == "advisor: standard output is closed; nothing to write to\n"


# D. Target directory and file system


def test_d4_a_parent_that_is_a_file_is_refused(run: Run, in_tmp: Path) -> None:
    (in_tmp / "parent").write_text("x", encoding="utf-8")
    result = run("new", "parent/board", "--defaults", *CELERY)
    assert result.code == 2
    assert listing(in_tmp) == ["parent"]


@pytest.mark.parametrize("target", ["/", "HOME"])
def test_d5_dangerous_targets_are_refused(run: Run, isolated_home: Path, target: str) -> None:
    before = listing(isolated_home)
    result = run(
        "new", str(isolated_home) if target == "HOME" else target, "--defaults", *CELERY, "--name", "board", "--force"
    )
    assert result.code == 3
    assert "refusing to generate into" in result.err
    assert listing(isolated_home) == before


def test_d6_a_permission_error_mid_move_leaves_nothing(run: Run, in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(os, "rename", denied)
    result = run("new", "board", "--defaults", *CELERY)
    assert result.code == 1
    assert result.err == "board: Permission denied; nothing was written\n"
    assert listing(in_tmp) == []


@pytest.fixture
def tiny_disk(tmp_path: Path) -> object:
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs for the disk-full test: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=False)


def test_d7_a_full_disk_mid_generation_leaves_nothing(tiny_disk: Path, tmp_path: Path) -> None:
    done = advisor_process(
        "new", "board", "--defaults", "--stack", "hybrid", cwd=tiny_disk, env={"HOME": str(tmp_path)}
    )
    assert done.returncode == 1, done.stderr
    assert "No space left on device; nothing was written" in done.stderr
    assert listing(tiny_disk) == []


def test_d13_generation_is_byte_identical_across_umask_timezone_and_locale(tmp_path: Path) -> None:
    trees = []
    for number, (umask, tz, lang) in enumerate([("022", "UTC", "C.UTF-8"), ("077", "Asia/Tokyo", "C")]):
        work = tmp_path / str(number)
        work.mkdir()
        shell = f"umask {umask} && {sys.executable} -m advisor new board --defaults --stack hybrid"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TZ": tz,
            "LANG": lang,
            "SOURCE_DATE_EPOCH": golden.EPOCH,
            "PYTHONHASHSEED": str(number),
            "HOME": str(tmp_path),
        }
        subprocess.run(["bash", "-c", shell], cwd=work, env=env, check=True, capture_output=True, timeout=60)
        board = work / "board"
        trees.append(
            {
                str(p.relative_to(board)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mode)
                for p in board.rglob("*")
            }
        )
    assert trees[0] == trees[1]


@pytest.mark.parametrize("stack", scaffold.STACKS)
@pytest.mark.parametrize("broker", ["none", "rabbitmq", "sqs"])
def test_d17_d19_every_variant_stays_inside_with_no_case_collisions_or_links(
    run: Run, in_tmp: Path, stack: str, broker: str
) -> None:
    assert run("new", "board", "--defaults", "--stack", stack, "--set", f"existing_broker={broker}").code == 0
    paths = [p for p in (in_tmp / "board").rglob("*")]
    assert not [p for p in paths if p.is_symlink()]
    assert all(p.resolve().is_relative_to((in_tmp / "board").resolve()) for p in paths)
    lowered = [str(p).lower() for p in paths]
    assert len(lowered) == len(set(lowered))


def test_d19_the_template_holds_no_symlinks() -> None:
    assert [p for p in (ROOT / "templates").rglob("*") if p.is_symlink()] == []


# E. Rendering


def test_e4_an_undefined_template_variable_fails_and_leaves_nothing(
    run: Run, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = scaffold.context

    def missing_key(*args: object) -> dict[str, object]:
        values = original(*args)  # type: ignore[arg-type]
        del values["package_name"]
        return values

    monkeypatch.setattr(scaffold, "context", missing_key)
    result = run("new", "board", "--defaults", *CELERY)
    assert result.code == 1
    assert "package_name" in result.err
    assert listing(in_tmp) == []


def test_e6_a_thousand_user_rules_still_give_a_verdict(run: Run, tmp_path: Path) -> None:
    rules = tmp_path / "many"
    rules.mkdir()
    body = [
        {
            "id": f"org-rule-{n}",
            "title": f"Rule {n}",
            "when": {"team_size": {"at_least": 1 + n % 50}},
            "effects": {"celery": 1},
            "because": "x" * 500,
            "sources": ["https://example.org/r"],
        }
        for n in range(1000)
    ]
    (rules / "many.yaml").write_text(yaml.safe_dump({"version": 1, "rules": body}), encoding="utf-8")
    for fmt in ("json", "html", "markdown"):
        assert run("recommend", "--defaults", "--rules", str(rules), "--format", fmt).code == 0


# F. Generated starters


@pytest.mark.parametrize("name", list(golden.EXPECTED))
def test_f6_f7_example_secrets_and_ports_are_safe(name: str) -> None:
    project = golden.EXAMPLES / name
    compose = yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["services"]
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
        assert "C_FORCE_ROOT" not in str(service.get("environment", {}))
    ignored = (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored and "!.env.example" in ignored
    example = (project / ".env.example").read_text(encoding="utf-8")
    secrets = [
        line.split("=", 1)[1]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#") and ("SECRET" in line or "PASSWORD" in line)
    ]
    assert secrets and all(value.startswith("replace-with") for value in secrets)
