"""Whether the questions still to ask can change the verdict: the wizard's offer to finish early.

Two checks, each proving exactly what the wizard then says (issue 13, a short wizard):

- `settled`: no answers to the open questions, alone or together, change the recommendation
  or which options are eligible. Each rule's condition is evaluated three-valued (true,
  false, or unknown while it tests an open question); each option's score is bounded by
  its definite points plus the best or worst of the undetermined rules; and the verdict
  holds when its lowest possible score beats every rival's highest and no undetermined
  requirement could rule an option in or out.
- `steady`: no single open answer changes them, the others left at their defaults: the
  same one-answer-at-a-time semantics as the report's flips (advisor.flips).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from advisor.conditions import All, Any_, Condition, Not, Test
from advisor.engine import firing, rank
from advisor.flips import candidates
from advisor.questions import Question, QuestionBank
from advisor.rules import OPTIONS, SIMPLER_FIRST, RuleSet

Tri = bool | None  # true, false, or unknown (it tests an open question)


@dataclass(frozen=True)
class Outlook:
    """What finishing now gives: the recommendation and the eligible options, and how sure that is."""

    recommendation: str
    eligible: tuple[str, ...]
    proof: str  # "settled" (no combination changes it), "steady" (no single answer does) or "open"


def outcome_of(ruleset: RuleSet, answers: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The recommendation and the eligible options for complete answers (as engine.decide has them)."""
    _, _, _, unmet, winner, _ = rank(firing(ruleset, answers))
    return winner, tuple(option for option in OPTIONS if not unmet[option])


def open_questions(bank: QuestionBank, answers: Mapping[str, Any], unasked: Collection[str]) -> list[str]:
    """The unasked questions that may yet be asked: those whose `ask_when` is not already false."""
    found = []
    for qid in unasked:
        ask_when = bank.questions[qid].ask_when
        # Never asked whatever the others' answers: it keeps its current answer, so it is not open.
        if ask_when is None or truth(ask_when, answers, set(unasked)) is not False:
            found.append(qid)
    return found


def outlook(ruleset: RuleSet, answers: Mapping[str, Any], unasked: Collection[str]) -> Outlook:
    """What finishing now gives, with `unasked` at their current (default) values, and which check proves it."""
    recommendation, eligible = outcome_of(ruleset, answers)
    unknown = set(open_questions(ruleset.questions, answers, unasked))
    if settled(ruleset, answers, unknown, recommendation):
        return Outlook(recommendation, eligible, "settled")
    if steady(ruleset, answers, unknown, (recommendation, eligible)):
        return Outlook(recommendation, eligible, "steady")
    return Outlook(recommendation, eligible, "open")


def truth(condition: Condition, answers: Mapping[str, Any], unknown: Collection[str]) -> Tri:
    """The condition three-valued: true or false whatever the `unknown` questions' answers, else None."""
    if isinstance(condition, Test):
        return _test_truth(condition, answers, unknown)
    if isinstance(condition, Not):
        inner = truth(condition.part, answers, unknown)
        return None if inner is None else not inner
    parts = [truth(part, answers, unknown) for part in condition.parts]
    if isinstance(condition, All):
        return False if False in parts else (True if all(parts) else None)
    assert isinstance(condition, Any_)
    return True if True in parts else (False if all(part is False for part in parts) else None)


def _test_truth(test: Test, answers: Mapping[str, Any], unknown: Collection[str]) -> Tri:
    question = test.question
    if question.id not in unknown:
        return test.holds(answers)
    assert isinstance(question, Question)  # conditions name questions through a protocol; the bank's are these
    results = {test.holds({question.id: value}) for value in possible_values(question, test.operand)}
    return results.pop() if len(results) == 1 else None


def possible_values(question: Question, operand: Any = ()) -> list[Any]:
    """Every value a test of `question` can tell apart: all choices, or an int's range ends and the
    values around the operand (a test's truth only changes at its operands)."""
    if question.type == "bool":
        return [True, False]
    if question.type == "choice":
        return list(question.values)
    operands = operand if isinstance(operand, tuple | list) else (operand,)
    near = {question.minimum, question.maximum} | {value + step for value in operands for step in (-1, 0, 1)}
    return sorted(value for value in near if question.minimum <= value <= question.maximum)


def settled(ruleset: RuleSet, answers: Mapping[str, Any], unknown: Collection[str], recommendation: str) -> bool:
    """True when no answers to the `unknown` questions, in any combination, change the
    recommendation or any option's eligibility."""
    low, high = dict.fromkeys(OPTIONS, 0), dict.fromkeys(OPTIONS, 0)
    surely_out: set[str] = set()
    maybe_out: set[str] = set()
    for rule, _ in ruleset.compiled:
        fires = truth(rule.when, answers, unknown)
        if fires is False:
            continue
        for option, points in rule.effects.items():
            low[option] += points if fires else min(points, 0)
            high[option] += points if fires else max(points, 0)
        if rule.kind == "requirement":
            (surely_out if fires else maybe_out).update(rule.excludes)
    if maybe_out - surely_out:
        return False  # an open answer could rule an option out, or leave it in
    eligible = [option for option in OPTIONS if option not in surely_out]
    if recommendation not in eligible:
        # None is eligible: the closest wins by its count of unmet needs, which must then be known exactly.
        return not maybe_out and _beats_all(recommendation, OPTIONS, low, high, ruleset, answers, unknown)
    return _beats_all(recommendation, eligible, low, high, ruleset, answers, unknown)


def _beats_all(
    winner: str,
    rivals: Collection[str],
    low: Mapping[str, int],
    high: Mapping[str, int],
    ruleset: RuleSet,
    answers: Mapping[str, Any],
    unknown: Collection[str],
) -> bool:
    counts = _unmet_counts(ruleset, answers, unknown)
    for rival in rivals:
        if rival == winner or counts[rival] != counts[winner]:
            continue  # fewer unmet needs than the winner cannot happen here: the winner is the closest
        # A tie goes to the simpler stack (engine.ranking), so the winner may equal a rival it precedes.
        simpler = SIMPLER_FIRST.index(winner) < SIMPLER_FIRST.index(rival)
        if low[winner] < high[rival] or (low[winner] == high[rival] and not simpler):
            return False
    return True


def _unmet_counts(ruleset: RuleSet, answers: Mapping[str, Any], unknown: Collection[str]) -> dict[str, int]:
    """How many requirements each option fails (called only when every requirement is determined)."""
    counts = dict.fromkeys(OPTIONS, 0)
    for rule, _ in ruleset.compiled:
        if rule.kind == "requirement" and truth(rule.when, answers, unknown):
            for option in rule.excludes:
                counts[option] += 1
    return counts


def steady(
    ruleset: RuleSet, answers: Mapping[str, Any], unknown: Collection[str], now: tuple[str, tuple[str, ...]]
) -> bool:
    """True when no single `unknown` answer, the others as they are, changes the outcome `now`."""
    return not any(changes_alone(ruleset, answers, ruleset.questions.questions[qid], now) for qid in unknown)


# The bank's first questions matter to everyone and always come first, in its order (docs/formats.md).
FIRST_IN_ORDER = 4


def next_question(
    ruleset: RuleSet, answers: Mapping[str, Any], remaining: list[Question], open_ids: Collection[str]
) -> Question:
    """The question to ask next: after the first four, the one whose answer can still move the
    most points (or decide a requirement), so the finish offer comes as early as it truthfully can.

    `open_ids` are the questions not yet answered. A question whose `ask_when` tests an open
    question waits for it; ties keep the bank's order.
    """
    order = list(ruleset.questions.questions)
    if any(order.index(question.id) < FIRST_IN_ORDER for question in remaining):
        return remaining[0]
    ready = [question for question in remaining if not (mentions(question.ask_when) & set(open_ids))]
    if not ready:
        return remaining[0]
    stakes = at_stake(ruleset, answers, open_ids)
    # Tried on rules/scenarios.yaml: weighing by points at stake asks 13 questions on average before
    # the offer (the bank's order: 19); preferring questions that flip the verdict alone asked 12.5
    # but more than the bank's order for a fifth of the profiles.
    return max(ready, key=lambda question: (stakes.get(question.id, 0), -order.index(question.id)))


def changes_alone(
    ruleset: RuleSet, answers: Mapping[str, Any], question: Question, now: tuple[str, tuple[str, ...]]
) -> bool:
    """Whether some answer to `question`, the others as they are, changes the outcome `now`."""
    values = candidates(ruleset, question, answers[question.id])
    return any(outcome_of(ruleset, {**answers, question.id: value}) != now for value in values)


def at_stake(ruleset: RuleSet, answers: Mapping[str, Any], open_ids: Collection[str]) -> dict[str, int]:
    """Per open question, the points of the undetermined rules that test it; a requirement counts
    as more than any score, since it can rule an option out."""
    stakes: dict[str, int] = {}
    for rule, _ in ruleset.compiled:
        if truth(rule.when, answers, open_ids) is not None:
            continue
        weight = sum(abs(points) for points in rule.effects.values()) + (REQUIREMENT_STAKE if rule.excludes else 0)
        for qid in mentions(rule.when) & set(open_ids):
            stakes[qid] = stakes.get(qid, 0) + weight
    return stakes


# A requirement can rule an option out, which outweighs any score: it is weighed above every rule's points.
REQUIREMENT_STAKE = 100


def mentions(condition: Condition | None) -> set[str]:
    """The question ids a condition tests."""
    if condition is None:
        return set()
    if isinstance(condition, Test):
        return {condition.question.id}
    if isinstance(condition, Not):
        return mentions(condition.part)
    return set().union(*(mentions(part) for part in condition.parts))
