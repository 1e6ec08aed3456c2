"""The short wizard's proof: when advisor.shortcut says the open questions cannot change the
verdict, trying their answers (every combination where few, many samples where not) never does."""

from __future__ import annotations

import itertools
import random
from typing import Any

from advisor import advice, engine, flips, shortcut
from advisor.questions import Question

RULESET = advice.load_ruleset()
BANK = RULESET.questions
IDS = list(BANK.questions)
BRUTE_FORCE_LIMIT = 3000
SAMPLES = 300


def values_of(question: Question, current: Any) -> list[Any]:
    """Every value that can matter: all choices, or an int's ends and each rule threshold's neighbours."""
    if question.type != "int":
        return [True, False] if question.type == "bool" else list(question.values)
    near = set(flips.candidates(RULESET, question, current)) | {current, question.minimum, question.maximum}
    return sorted(near)


def decided(answers: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The engine's own verdict and eligible options: what the wizard would report."""
    verdict = engine.decide(RULESET, answers)
    return verdict.recommendation, verdict.eligible


def assignments(answers: dict[str, Any], unknown: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """Every combination of the unknown answers when there are few, else many random ones."""
    choices = [values_of(BANK.questions[qid], answers[qid]) for qid in unknown]
    if len(list(itertools.islice(itertools.product(*choices), BRUTE_FORCE_LIMIT + 1))) <= BRUTE_FORCE_LIMIT:
        combos = list(itertools.product(*choices))
    else:
        combos = [tuple(rng.choice(options) for options in choices) for _ in range(SAMPLES)]
    return [{**answers, **dict(zip(unknown, combo, strict=True))} for combo in combos]


def random_case(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    answers = {qid: rng.choice(values_of(q, q.default)) for qid, q in BANK.questions.items()}
    unknown = rng.sample(IDS, rng.randint(1, 9))
    return answers, unknown


def test_settled_means_no_combination_of_the_open_answers_changes_the_verdict_or_eligibility() -> None:
    rng = random.Random(13)
    proved = 0
    for _ in range(400):
        answers, unknown = random_case(rng)
        now = decided(answers)
        if not shortcut.settled(RULESET, answers, unknown, now[0]):
            continue
        proved += 1
        for tried in assignments(answers, unknown, rng):
            assert decided(tried) == now, (unknown, {qid: tried[qid] for qid in unknown})
    assert proved >= 40  # the check is exercised, not vacuous


def test_steady_means_no_single_open_answer_changes_the_verdict_or_eligibility() -> None:
    rng = random.Random(7)
    proved = 0
    for _ in range(300):
        answers, unknown = random_case(rng)
        now = decided(answers)
        if not shortcut.steady(RULESET, answers, unknown, now):
            continue
        proved += 1
        for qid in unknown:
            for value in values_of(BANK.questions[qid], answers[qid]):
                assert decided({**answers, qid: value}) == now, (qid, value)
    assert proved >= 40


def test_the_checks_are_not_trivially_true() -> None:
    """A durable-work answer still open can rule options out: neither check may claim otherwise."""
    answers = BANK.defaults()
    now = decided(answers)
    assert not shortcut.settled(RULESET, answers, ["durable_work"], now[0])
    assert not shortcut.steady(RULESET, answers, ["durable_work"], now)
    assert shortcut.outlook(RULESET, answers, ["durable_work", "monitoring_ui"]).proof == "open"


def test_a_condition_is_unknown_only_while_an_open_answer_can_still_change_it() -> None:
    rule = next(rule for rule in RULESET.rules if rule.kind == "requirement" and "durable_work" in str(rule.when))
    answers = {**BANK.defaults(), "durable_work": True}
    assert shortcut.truth(rule.when, answers, []) is True
    assert shortcut.truth(rule.when, answers, ["durable_work"]) is None
    assert shortcut.truth(rule.when, answers, ["latency"]) is True
