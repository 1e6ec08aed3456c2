"""Flips: single-answer changes that would change the verdict, each confirmed by re-running.

For a choice or bool question every other value is tried. For an int question the
candidates are the values next to every threshold the rules test, so a flip names the
smallest change that crosses one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advisor.conditions import tests_in
from advisor.engine import Verdict, outcome
from advisor.questions import Question
from advisor.records import Record
from advisor.rules import RuleSet


@dataclass(repr=False, eq=False)
class Flip(Record):
    """One answer that, changed alone, changes the recommendation."""

    question: str
    answer: Any
    recommendation: str
    margin: int
    # The requirements the new recommendation would fail (when, after the change, none is met).
    unmet: tuple[str, ...] = ()


def find(ruleset: RuleSet, answers: Mapping[str, Any], verdict: Verdict) -> list[Flip]:
    """Every single-answer change that changes the verdict, most decisive first."""
    found = []
    order = list(ruleset.questions.questions)
    fires = [holds(answers) for _, holds in ruleset.compiled]
    for question in ruleset.questions.questions.values():
        found.extend(_flips_for(ruleset, answers, fires, verdict, question))
    found.sort(key=lambda flip: (-flip.margin, order.index(flip.question)))
    return found


def _changed(
    ruleset: RuleSet, answers: Mapping[str, Any], fires: list[bool], question_id: str, answer: Any
) -> tuple[str, int, tuple[str, ...]]:
    """The outcome with one answer changed, re-evaluating only the rules that test that question."""
    changed = {**answers, question_id: answer}
    now = list(fires)
    for index in ruleset.dependents.get(question_id, ()):
        now[index] = ruleset.compiled[index][1](changed)
    return outcome([rule for (rule, _), on in zip(ruleset.compiled, now, strict=True) if on])


def _flips_for(
    ruleset: RuleSet, answers: Mapping[str, Any], fires: list[bool], verdict: Verdict, question: Question
) -> list[Flip]:
    flips: dict[str, Flip] = {}
    current = answers[question.id]
    for candidate in candidates(ruleset, question, current):
        recommendation, margin, unmet = _changed(ruleset, answers, fires, question.id, candidate)
        if recommendation == verdict.recommendation:
            continue
        # Keep one flip per new verdict: the first candidate is the smallest change.
        flips.setdefault(recommendation, Flip(question.id, candidate, recommendation, margin, unmet))
    return list(flips.values())


def candidates(ruleset: RuleSet, question: Question, current: Any) -> list[Any]:
    if question.type == "bool":
        return [not current]
    if question.type == "choice":
        return [value for value in question.values if value != current]
    return _int_candidates(ruleset, question, current)


def _int_candidates(ruleset: RuleSet, question: Question, current: int) -> list[int]:
    edges: set[int] = set()
    for rule in ruleset.rules:
        for test in tests_in(rule.when):
            if test.question.id != question.id:
                continue
            operands = test.operand if isinstance(test.operand, tuple) else (test.operand,)
            for value in operands:
                edges.update((value - 1, value, value + 1))
    inside = [value for value in edges if question.minimum <= value <= question.maximum and value != current]
    return sorted(inside, key=lambda value: (abs(value - current), value))
