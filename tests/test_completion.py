"""Shell completion: rule ids after `rules show`, question ids and their values after `--set`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from advisor import completion

ORG_RULE = (
    "version: 1\nrules:\n  - id: org-celery-only\n    title: We run Celery only\n"
    "    when: {team_size: {at_least: 1}}\n    effects: {celery: 5}\n"
    "    because: Platform policy.\n    sources: [https://intranet.example.org/adr/7]\n"
)


def context(**params: object) -> click.Context:
    ctx = click.Context(click.Command("advisor"))
    ctx.params.update(params)
    return ctx


def test_question_ids_complete_with_an_equals_sign() -> None:
    assert completion.answer_settings(context(), "dur") == ["durable_work="]
    assert "latency=" in completion.answer_settings(context(), "")


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("durable_work=", ["durable_work=yes", "durable_work=no"]),
        ("latency=", ["latency=realtime", "latency=interactive", "latency=relaxed"]),
        ("latency=re", ["latency=realtime", "latency=relaxed"]),
        ("team_size=", []),  # an integer: nothing to list
        ("latncy=", []),  # an unknown id: nothing rather than an error
    ],
)
def test_values_follow_the_question(typed: str, offered: list[str]) -> None:
    assert completion.answer_settings(context(), typed) == offered


def test_rule_ids_include_the_rules_given_on_the_line(tmp_path: Path) -> None:
    shipped = completion.rule_ids(context(), "wamp-")
    assert shipped and all(rule_id.startswith("wamp-") for rule_id in shipped)
    assert completion.rule_ids(context(), "org-") == []
    (tmp_path / "org.yaml").write_text(ORG_RULE, encoding="utf-8")
    assert completion.rule_ids(context(rules=[str(tmp_path)]), "org-") == ["org-celery-only"]


def test_a_broken_rule_file_completes_nothing_instead_of_failing(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("version: 1\nrules: [\n", encoding="utf-8")
    assert completion.rule_ids(context(rules=[str(tmp_path)]), "") == []
    assert completion.answer_settings(context(rules=[str(tmp_path)]), "dur") == []


def complete_bash(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """What bash's completion function asks the advisor for the last word of `line`."""
    env = {**os.environ, "_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": line}
    env["COMP_CWORD"] = str(len(line.split()) - (0 if line.endswith(" ") else 1))
    return subprocess.run(
        [sys.executable, "-m", "advisor"], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def test_typer_completion_protocol_offers_rule_ids_and_answers(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(ORG_RULE, encoding="utf-8")
    rule = complete_bash(f"advisor rules show --rules {tmp_path} org-", tmp_path)
    assert (rule.returncode, rule.stdout.split(), rule.stderr) == (0, ["org-celery-only"], "")
    question = complete_bash("advisor recommend --set dur", tmp_path)
    assert question.stdout.split() == ["durable_work="]
    value = complete_bash("advisor new DIR --set durable_work=", tmp_path)
    assert value.stdout.split() == ["durable_work=yes", "durable_work=no"]
