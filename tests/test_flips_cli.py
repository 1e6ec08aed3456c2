"""Every flip the advisor prints is true: re-run through the CLI with that one answer changed.

The flip finder and this test share nothing but the command line: the profile goes in as an
answers file, the flip comes back in the JSON, and `--set QUESTION=ANSWER` asks again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Result

from advisor import advice, resources, rule_lint
from advisor.answers import as_text, dump

BANK = advice.load_bank()
SCENARIOS = rule_lint.load_scenarios(resources.rules_dir() / "scenarios.yaml", BANK)


def verdict(run: Any, *args: str) -> dict[str, Any]:
    result: Result = run("recommend", *args, "--format", "json")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_there_are_scenarios_with_flips(run: Any, tmp_path: Path) -> None:
    with_flips = 0
    for scenario in SCENARIOS:
        answers = tmp_path / f"{scenario.id}.yml"
        answers.write_text(dump(scenario.answers), encoding="utf-8")
        with_flips += bool(verdict(run, "--answers", str(answers))["flips"])
    assert with_flips >= len(SCENARIOS) // 2


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_every_printed_flip_comes_true_when_that_answer_is_changed(
    scenario: rule_lint.Scenario, run: Any, tmp_path: Path
) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_text(dump(scenario.answers), encoding="utf-8")
    before = verdict(run, "--answers", str(answers))
    for flip in before["flips"]:
        change = f"{flip['question']}={as_text(flip['answer'])}"
        after = verdict(run, "--answers", str(answers), "--set", change)
        assert after["answers"][flip["question"]] == flip["answer"]
        assert after["recommendation"] == flip["recommendation"] != before["recommendation"], change
