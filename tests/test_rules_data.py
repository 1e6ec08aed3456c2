"""The shipped knowledge: every case and scenario as a test, sources, flips that hold true."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from advisor import advice, conditions, engine, flips, resources, rule_lint, rules
from advisor.answers import complete

RULESET = advice.load_ruleset()
TOPICS = rules.rule_files(resources.rules_dir())
CASES = [case for topic in TOPICS for case in rules.load_cases(rules.cases_file(topic), RULESET)]
SCENARIOS = rule_lint.load_scenarios(resources.rules_dir() / "scenarios.yaml", RULESET.questions)


def fired_ids(answers: dict[str, object]) -> set[str]:
    return {rule.id for rule in engine.firing(RULESET, complete(RULESET.questions, answers))}


@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.path).stem}: {c.name}" for c in CASES])
def test_rule_case(case: rules.Case) -> None:
    fired = fired_ids(case.answers)
    assert set(case.fires) <= fired, f"did not fire: {sorted(set(case.fires) - fired)}"
    assert not set(case.not_fires) & fired, f"fired but must not: {sorted(set(case.not_fires) & fired)}"


def _explain(scenario: rule_lint.Scenario) -> str:
    verdict = engine.decide(RULESET, complete(RULESET.questions, scenario.answers))
    reasons = ", ".join(f"{rule.id} {rule.effects}" for rule in verdict.fired[:8])
    return f"rules say {verdict.recommendation} {verdict.scores}; top reasons: {reasons}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario_verdict_matches_the_argued_one(scenario: rule_lint.Scenario) -> None:
    verdict = engine.decide(RULESET, complete(RULESET.questions, scenario.answers))
    assert verdict.recommendation == scenario.expect, _explain(scenario)


def test_flips_find_every_single_choice_change_that_changes_the_verdict() -> None:
    # Brute force over every choice and bool answer of every scenario: nothing is missed.
    checked = 0
    for scenario in SCENARIOS:
        answers = complete(RULESET.questions, scenario.answers)
        verdict = engine.decide(RULESET, answers)
        found = {(f.question, f.recommendation) for f in flips.find(RULESET, answers, verdict)}
        for qid, question in RULESET.questions.questions.items():
            values = question.values if question.type == "choice" else [True, False] if question.type == "bool" else []
            for value in values:
                outcome = engine.decide(RULESET, {**answers, qid: value}).recommendation
                if outcome != verdict.recommendation:
                    assert (qid, outcome) in found, (scenario.id, qid, value)
                    checked += 1
    assert checked > 0, "no single-answer change flipped any scenario: the loop proved nothing"


def test_team_size_flips_name_the_nearest_value_across_a_threshold() -> None:
    team_size_flips = between_checked = 0
    for scenario in SCENARIOS:
        answers = complete(RULESET.questions, scenario.answers)
        verdict = engine.decide(RULESET, answers)
        for flip in flips.find(RULESET, answers, verdict):
            if flip.question != "team_size":
                continue
            team_size_flips += 1
            step = 1 if flip.answer > answers["team_size"] else -1
            for between in range(answers["team_size"] + step, flip.answer, step):
                assert engine.decide(RULESET, {**answers, "team_size": between}).recommendation != flip.recommendation
                between_checked += 1
    # At least one scenario (freight-load-board-team-size-decides) flips on team size with
    # values in between, so the assertion above is reached.
    assert team_size_flips > 0 and between_checked > 0, (team_size_flips, between_checked)


def test_the_rule_base_is_broad_and_every_rule_cites_sources() -> None:
    scoring = [rule for rule in RULESET.rules if rule.kind == "score"]
    caveats = [rule for rule in RULESET.rules if rule.is_caveat]
    requirements = [rule for rule in RULESET.rules if rule.is_requirement]
    assert len(RULESET.rules) >= 40
    assert len(caveats) >= 6
    assert {rule.severity for rule in caveats} == {"blocking", "important", "note"}
    assert len(requirements) >= 4
    for rule in RULESET.rules:
        assert rule.sources and all(source.startswith("https://") for source in rule.sources), rule.id
    touched = {option for rule in scoring for option in rule.effects}
    assert touched == {"celery", "crossbar", "hybrid", "neither"}
    assert {option for rule in requirements for option in rule.excludes} == touched


def test_scenarios_cover_every_verdict_and_are_many() -> None:
    assert len(SCENARIOS) >= 20
    assert {s.expect for s in SCENARIOS} == {"celery", "crossbar", "hybrid", "neither"}


def test_verdicts_do_not_depend_on_rule_order() -> None:
    assert SCENARIOS
    shuffled = list(RULESET.rules)
    for seed in range(3):
        random.Random(seed).shuffle(shuffled)
        other = rules.RuleSet(RULESET.questions, tuple(shuffled))
        for scenario in SCENARIOS:
            answers = complete(RULESET.questions, scenario.answers)
            expected = json.dumps(advice.to_json_data(advice.advise(RULESET, answers)))
            assert json.dumps(advice.to_json_data(advice.advise(other, answers))) == expected


def test_caveats_only_show_for_verdicts_they_apply_to() -> None:
    shown = 0
    for scenario in SCENARIOS:
        verdict = engine.decide(RULESET, complete(RULESET.questions, scenario.answers))
        for caveat in verdict.caveats:
            assert verdict.recommendation in caveat.applies_to
            shown += 1
    assert shown > 0


def test_every_topic_file_has_cases_to_run() -> None:
    # The parametrized case test above runs nothing if loading finds no cases.
    assert len(TOPICS) >= 10
    assert {Path(case.path).name for case in CASES} == {rules.cases_file(topic).name for topic in TOPICS}


def test_each_question_says_why_it_matters_naming_an_option_its_rules_move() -> None:
    """`matters` (the wizard's help) stays true to the rules: it names an option those rules score or rule out."""
    names = {"celery": "Celery", "crossbar": "Crossbar.io", "hybrid": "hybrid", "neither": "neither"}
    for qid, question in RULESET.questions.questions.items():
        moved: set[str] = set()
        for rule in RULESET.rules:
            if qid in {test.question.id for test in conditions.tests_in(rule.when)}:
                moved |= {option for option, points in rule.effects.items() if points} | set(rule.excludes)
        assert moved, f"{qid}: no rule moves an option"
        named = {option for option, name in names.items() if name.lower() in question.matters.lower()}
        assert named & moved, (qid, question.matters, moved)
