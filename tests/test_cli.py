"""Every command and every error path of the CLI, run as a user would run it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result

from advisor import advice

Run = Callable[..., Result]
Write = Callable[[str, "str | bytes"], Path]

CORE_IDS = [
    "latency",
    "caller_waits",
    "scheduling",
    "browser_clients",
    "team_size",
    "durable_work",
    "retries",
    "job_duration",
    "cpu_heavy",
    "workflows",
    "rate_limits",
    "fanout",
    "progress_to_ui",
    "existing_broker",
    "windows",
    "iot_devices",
    "polyglot",
    "connections",
    "copyleft_ok",
    "missed_messages",
]


def test_version_prints_the_package_version(run: Run) -> None:
    result = run("--version")
    assert (result.code, result.out) == (0, "advisor 0.1.0\n")


def test_recommend_json_has_exactly_the_designed_fields(run: Run) -> None:
    result = run(
        "recommend", "--defaults", "--set", "scheduling=critical", "--set", "browser_clients=push", "--format", "json"
    )
    data = json.loads(result.out)
    assert result.code == 0
    assert data["fired"] and data["caveats"], "the shapes below must be checked on real entries"
    assert list(data) == [
        "schema",
        "recommendation",
        "confidence",
        "tie",
        "options",
        "scores",
        "answers",
        "requirements",
        "fired",
        "flips",
        "caveats",
    ]
    assert data["schema"] == "advisor.recommendation/2"
    assert data["recommendation"] in ("celery", "crossbar", "hybrid", "neither")
    assert data["confidence"] in ("high", "medium", "low")
    assert set(data["scores"]) == {"celery", "crossbar", "hybrid", "neither"}
    assert list(data["options"]) == ["celery", "crossbar", "hybrid", "neither"]
    for option, entry in data["options"].items():
        assert list(entry) == ["name", "score", "eligible", "unmet"]
        assert entry["score"] == data["scores"][option]
    assert set(CORE_IDS) <= set(data["answers"])
    for fired in data["fired"]:
        assert list(fired) == ["rule", "title", "effects", "because", "sources"]
    for caveat in data["caveats"]:
        assert list(caveat) == ["rule", "severity", "text", "sources"]


def test_recommend_without_any_answers_is_refused(run: Run) -> None:
    result = run("recommend")
    assert result.code == 2
    assert "no answers given" in result.err


def test_answers_file_problems_are_all_reported_with_locations(run: Run, write: Write) -> None:
    path = write(
        "answers.yml",
        "version: 1\nanswers:\n  latncy: realtime\n  team_size: many\n  browser_clients: websocket\n  retries: 'y'\n",
    )
    result = run("recommend", "--answers", str(path))
    lines = result.err.strip().splitlines()
    assert result.code == 2
    assert lines == [
        f"{path}:3:3: error[unknown-question]: unknown question 'latncy' (did you mean 'latency'?)",
        f"{path}:4:14: error[bad-answer]: 'team_size': expected an integer, not text 'many' "
        "(allowed: an integer from 1 to 10000)",
        f"{path}:5:20: error[bad-answer]: 'browser_clients': 'websocket' is not a choice (allowed: none, push, rpc)",
        f"{path}:6:12: error[bad-answer]: 'retries': expected yes or no, not text 'y' (allowed: yes, no, true, false)",
    ]


def test_answers_file_for_another_version_is_refused(run: Run, write: Write) -> None:
    path = write("answers.yml", "version: 99\nanswers: {}\n")
    result = run("recommend", "--answers", str(path))
    assert result.code == 2
    assert result.err.startswith(f"{path}:1:10: error[bad-version]: version 99 is not supported")


def test_set_wins_over_the_answers_file(run: Run, write: Write) -> None:
    path = write("answers.yml", "version: 1\nanswers:\n  browser_clients: push\n")
    result = run("recommend", "--answers", str(path), "--set", "browser_clients=none", "--format", "json")
    assert json.loads(result.out)["answers"]["browser_clients"] == "none"


def test_omitted_answers_take_their_defaults(run: Run, write: Write) -> None:
    path = write("answers.yml", "version: 1\nanswers:\n  team_size: 40\n")
    answers = json.loads(run("recommend", "--answers", str(path), "--format", "json").out)["answers"]
    assert answers["team_size"] == 40
    assert answers["latency"] == "interactive"
    assert answers["copyleft_ok"] is True


def test_bad_set_values_are_located_and_listed(run: Run) -> None:
    result = run("recommend", "--set", "latency=fast", "--set", "teamsize=3", "--set", "oops")
    assert result.code == 2
    assert result.err.splitlines() == [
        "--set latency=fast:1:9: error[bad-answer]: 'latency': 'fast' is not a choice "
        "(allowed: realtime, interactive, relaxed)",
        "--set oops:1:1: error[bad-set]: expected ID=VALUE (for example latency=realtime)",
        "--set teamsize=3:1:1: error[unknown-question]: unknown question 'teamsize' (did you mean 'team_size'?)",
    ]


def test_unknown_format_and_flags_are_usage_errors(run: Run) -> None:
    assert run("recommend", "--defaults", "--format", "yaml").code == 2
    assert run("recommend", "--bogus").code == 2


def test_output_is_written_and_never_overwritten_without_force(run: Run, in_tmp: Path) -> None:
    assert run("recommend", "--defaults", "--format", "json", "--output", "v.json").code == 0
    first = (in_tmp / "v.json").read_text(encoding="utf-8")
    assert json.loads(first)["schema"] == "advisor.recommendation/2"
    (in_tmp / "v.json").write_text("mine", encoding="utf-8")
    refused = run("recommend", "--defaults", "--output", "v.json")
    assert refused.code == 3
    assert (in_tmp / "v.json").read_text(encoding="utf-8") == "mine"
    assert run("recommend", "--defaults", "--format", "json", "--output", "v.json", "--force").code == 0
    assert (in_tmp / "v.json").read_text(encoding="utf-8") == first
    assert sorted(p.name for p in in_tmp.iterdir()) == ["v.json"]


def test_output_never_writes_through_a_symlink_or_into_a_directory(run: Run, in_tmp: Path) -> None:
    victim = in_tmp / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (in_tmp / "link.json").symlink_to(victim)
    (in_tmp / "adir").mkdir()
    assert run("recommend", "--defaults", "--output", "link.json", "--force").code == 3
    assert run("recommend", "--defaults", "--output", "adir", "--force").code == 3
    assert victim.read_text(encoding="utf-8") == "keep"


def test_text_verdict_fits_80_columns(run: Run) -> None:
    result = run(
        "recommend", "--set", "browser_clients=push", "--set", "durable_work=true", "--set", "scheduling=critical"
    )
    assert result.code == 0
    assert result.out.startswith("Verdict: ")
    assert "What would change it" in result.out
    # Only a URL, which a terminal cannot break, may run past 80 columns.
    long_lines = [line for line in result.out.splitlines() if len(line) > 80]
    assert all(line.strip().startswith("https://") and " " not in line.strip() for line in long_lines)


def test_output_is_deterministic(run: Run) -> None:
    args = ("recommend", "--set", "browser_clients=push", "--set", "retries=true", "--format", "json")
    assert run(*args).out == run(*args).out


def test_questions_lists_every_core_question(run: Run) -> None:
    text = run("questions")
    rows = json.loads(run("questions", "--format", "json").out)
    assert text.code == 0
    assert [row["id"] for row in rows][:4] == ["latency", "scheduling", "browser_clients", "team_size"]
    assert set(CORE_IDS) <= {row["id"] for row in rows}
    for row in rows:
        assert row["help"] and row["prompt"] and row["matters"]
        assert f"{row['id']} (" in text.out
        assert f"  why it matters: {row['matters']}\n" in text.out  # each question says why it matters
    durable = next(row for row in rows if row["id"] == "durable_work")
    assert durable["default"] is False  # JSON keeps real booleans
    assert "durable_work (bool; default no)" in text.out  # the text reads yes/no, as the wizard asks


def test_questions_writes_text_or_json_and_names_them_for_any_other_format(run: Run) -> None:
    result = run("questions", "--format", "markdown")
    assert (result.code, result.out) == (2, "")
    assert "'markdown' is not one of 'text', 'json'" in result.err


def test_every_report_format_is_a_choice_of_recommend_and_an_offer_of_the_wizard(run: Run) -> None:
    from advisor.render import FORMATS, Format
    from advisor.wizard.offers import REPORT_FORMATS

    assert f"[{'|'.join(Format)}]" in run("recommend", "--help").out.replace("\n", "").replace(" ", "")
    assert {fmt for fmt, _ in REPORT_FORMATS} == set(FORMATS)


def test_new_offers_every_option_but_neither_as_a_stack(run: Run, tmp_path: Path) -> None:
    result = run("new", str(tmp_path / "svc"), "--defaults", "--stack", "neither")
    assert result.code == 2
    assert "'neither' is not one of 'celery', 'crossbar', 'hybrid'" in result.err
    assert not (tmp_path / "svc").exists()


def test_rules_list_says_what_each_kind_of_rule_does(run: Run) -> None:
    listing = run("rules", "list").out.splitlines()
    requirement = next(line for line in listing if line.startswith("durable-work-needs-a-queue "))
    caveat = next(line for line in listing if line.startswith("celery-broker-must-stay-private "))
    assert "requirement: rules out " in requirement
    assert "caveat (" in caveat
    shown = run("rules", "show", "durable-work-needs-a-queue").out
    assert "  effects: none\n" in shown and "  rules out: " in shown  # a requirement is no caveat


def test_rules_list_and_show(run: Run) -> None:
    listing = run("rules", "list")
    first_id = listing.out.split()[0]
    shown = run("rules", "show", first_id)
    assert listing.code == 0 and shown.code == 0
    assert shown.out.startswith(f"{first_id}: ")
    assert "source: https://" in shown.out


def test_rules_show_prints_the_condition_readably(run: Run) -> None:
    shown = run("rules", "show", "crossbar-auth-untrusted-clients")
    assert shown.code == 0
    assert "  when:\n    any of:\n      browser_clients is rpc\n      iot_devices is yes\n  because: " in shown.out
    always = run("rules", "show", "celery-adds-a-broker-and-workers")
    assert "  when:\n    always\n" in always.out


def test_rules_show_renders_every_operator_and_nesting(run: Run, write: Write) -> None:
    policy = write(
        "org/policy.yaml",
        "version: 1\nrules:\n  - id: org-rule\n    title: Org rule\n    when:\n      all:\n"
        "        - not: {latency: realtime}\n        - scheduling: {in: [light, critical]}\n"
        "        - any:\n            - team_size: {at_least: 5}\n            - job_duration: {at_most: seconds}\n"
        "            - existing_broker: {not_in: [none, sqs]}\n            - windows: {not_equals: true}\n"
        "    effects: {celery: 1}\n    because: Policy.\n    sources: [https://intranet.example.org/adr/7]\n",
    )
    shown = run("rules", "show", "org-rule", "--rules", str(policy.parent))
    assert shown.code == 0, shown.err
    when = shown.out.split("  when:\n", 1)[1].split("  because:", 1)[0]
    assert when.splitlines() == [
        "    all of:",
        "      not:",
        "        latency is realtime",
        "      scheduling is one of light, critical",
        "      any of:",
        "        team_size is at least 5",
        "        job_duration is at most seconds",
        "        existing_broker is none of none, sqs",
        "        windows is not yes",
    ]


def test_rules_show_unknown_id_suggests(run: Run) -> None:
    first_id = run("rules", "list").out.split()[0]
    result = run("rules", "show", first_id + "x")
    assert result.code == 2
    assert f"did you mean '{first_id}'?" in result.err


def test_shipped_rules_pass_lint(run: Run) -> None:
    result = run("rules", "lint")
    assert result.code == 0, result.err
    assert result.out.startswith("ok: ")


def test_wizard_refuses_a_non_interactive_stdin(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    result = run("wizard")
    assert result.code == 2
    assert "stdin is not a terminal, so the wizard will not prompt" in result.err


def test_internal_errors_exit_1_without_traceback(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(advice, "advise", broken)
    result = run("recommend", "--defaults")
    assert result.code == 1
    assert result.err == "internal error: RuntimeError: boom (run with --debug for a traceback)\n"
    with pytest.raises(RuntimeError):
        run("--debug", "recommend", "--defaults")


def test_ctrl_c_exits_130(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(advice, "advise", interrupted)
    result = run("recommend", "--defaults")
    assert result.code == 130
    assert "Traceback" not in result.err


def test_hostile_yaml_in_an_answers_file_is_refused_without_running_anything(
    run: Run, write: Write, in_tmp: Path
) -> None:
    path = write("evil.yml", "version: 1\nanswers: !!python/object/apply:os.system ['touch PWNED']\n")
    result = run("recommend", "--answers", str(path))
    assert result.code == 2
    assert result.err.startswith(f"{path}:2:10: error[yaml-tag]: ")
    assert not (in_tmp / "PWNED").exists()


def test_yaml_syntax_errors_in_answers_are_located_without_traceback(run: Run, write: Write) -> None:
    path = write("broken.yml", "version: 1\nanswers:\n  latency: 'realtime\n")
    result = run("recommend", "--answers", str(path))
    assert result.code == 2
    assert result.err.startswith(f"{path}:4:1: error[yaml-syntax]: found unexpected end of stream")
    assert "Traceback" not in result.err


def test_broken_rule_files_in_a_rules_dir_are_located(run: Run, tmp_path: Path) -> None:
    rules_dir = tmp_path / "org"
    rules_dir.mkdir()
    (rules_dir / "a.yaml").write_text("version: 1\nrules:\n  - id: x\n    id: y\n", encoding="utf-8")
    (rules_dir / "b.yaml").write_text("version: 1\nrules: [\n", encoding="utf-8")
    result = run("recommend", "--defaults", "--rules", str(rules_dir))
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[0] == f"{rules_dir}/a.yaml:4:5: error[duplicate-key]: key 'id' appears twice (first at line 3)"
    # The wording comes from the YAML parser (libyaml or PyYAML's own); the place and code are ours.
    assert lines[1].startswith(f"{rules_dir}/b.yaml:3:1: error[yaml-syntax]: ")
    assert len(lines) == 2


def test_json_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    args = [
        sys.executable,
        "-m",
        "advisor",
        "recommend",
        "--set",
        "browser_clients=push",
        "--set",
        "durable_work=true",
        "--format",
        "json",
    ]
    outputs = {
        subprocess.run(
            args, capture_output=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}, cwd=tmp_path
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


@pytest.mark.parametrize(
    "command", [[], ["recommend"], ["new"], ["check"], ["wizard"], ["questions"], ["rules"], ["rules", "show"]]
)
def test_dash_h_is_help_on_every_command(run: Run, command: list[str]) -> None:
    short, long = run(*command, "-h"), run(*command, "--help")
    assert short.code == long.code == 0
    assert short.out == long.out
    assert short.out.startswith("Usage: advisor")


@pytest.mark.parametrize("epoch", ["abc", "-5", "1e9", "99999999999999999999"])
def test_a_bad_source_date_epoch_is_an_input_error_naming_the_variable(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, epoch: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    result = run("recommend", "--defaults", "--format", "adr")
    assert (result.code, result.out) == (2, "")
    assert "SOURCE_DATE_EPOCH" in result.err
    made = run("new", str(tmp_path / "svc"), "--defaults")
    assert made.code == 2
    assert "SOURCE_DATE_EPOCH" in made.err
    assert not (tmp_path / "svc").exists()


@pytest.mark.parametrize("written", ["yes", "Yes", "'yes'", "true"])
def test_yes_no_questions_take_yes_and_no_in_files_and_in_set(run: Run, write: Write, written: str) -> None:
    path = write("answers.yml", f"version: 1\nanswers:\n  durable_work: {written}\n  retries: no\n")
    from_file = json.loads(run("recommend", "--answers", str(path), "--format", "json").out)
    assert (from_file["answers"]["durable_work"], from_file["answers"]["retries"]) == (True, False)
    from_set = json.loads(run("recommend", "--defaults", "--set", "durable_work=yes", "--format", "json").out)
    assert from_set["answers"]["durable_work"] is True


def test_next_steps_name_the_answers_file_that_was_given(run: Run, write: Write) -> None:
    """The hints can be run as printed: they name the answers file the verdict came from."""
    path = write("team/portfolio answers.yml", "version: 1\nanswers:\n  durable_work: yes\n")
    result = run("recommend", "--answers", str(path))
    assert result.code == 0, result.err
    # `advisor check DIR` reads the project's own answers; the other hints name the file.
    hints = [line for line in result.out.splitlines() if line.strip().startswith(("advisor new", "advisor recommend"))]
    assert hints, result.out
    assert all(f"--answers '{path}'" in line for line in hints), hints  # quoted: the name has a space
