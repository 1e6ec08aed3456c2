"""One call from answers to advice: load the bank and rules, resolve answers, decide, find flips.

This is the core the commands call; it raises AdvisorError subclasses and never prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import answers as answers_mod
from advisor import engine, flips, precompiled, questions, resources, rules
from advisor.errors import DataError
from advisor.records import Record

SCHEMA = "advisor.recommendation/2"


@dataclass(repr=False, eq=False)
class Advice(Record):
    """Everything a report needs: the complete answers, the verdict, its flips and the rules used."""

    answers: dict[str, Any]
    verdict: engine.Verdict
    flips: tuple[flips.Flip, ...]
    ruleset: rules.RuleSet
    # The ids the user gave (answers file, --set, the wizard), even where equal to the default;
    # None when the caller does not know, and reports then tell a default by its value.
    given: frozenset[str] | None = None


def load_bank() -> questions.QuestionBank:
    shipped = precompiled.load_shipped()
    return shipped.questions if shipped else questions.load(resources.rules_dir() / "questions.yaml")


def load_ruleset(extra_dirs: list[Path] | None = None, bank: questions.QuestionBank | None = None) -> rules.RuleSet:
    """The shipped rules plus the rule files of each `--rules` directory (or file)."""
    if not extra_dirs and bank is None:
        shipped = precompiled.load_shipped()
        if shipped is not None:
            return shipped
    bank = bank or load_bank()
    extra_files = [path for directory in extra_dirs or [] for path in rules.rule_files(directory)]
    return rules.load(bank, rules.rule_files(resources.rules_dir()), extra_files)


def given_answers(bank: questions.QuestionBank, answers_file: Path | None, sets: list[str]) -> dict[str, Any]:
    """Only what the user gave: the answers file, then `--set` (which wins); problems reported together."""
    problems = []
    from_file: dict[str, Any] = {}
    from_sets: dict[str, Any] = {}
    if answers_file is not None:
        try:
            from_file = answers_mod.load_file_answers(answers_file, bank, str(answers_file))
        except DataError as exc:
            problems.extend(exc.problems)
    try:
        from_sets = answers_mod.parse_sets(sets, bank)
    except DataError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    return {**from_file, **from_sets}


def resolve_answers(bank: questions.QuestionBank, answers_file: Path | None, sets: list[str]) -> dict[str, Any]:
    """Defaults, then the answers file, then `--set`."""
    return answers_mod.complete(bank, given_answers(bank, answers_file, sets))


def advise(ruleset: rules.RuleSet, answers: dict[str, Any], given: frozenset[str] | None = None) -> Advice:
    verdict = engine.decide(ruleset, answers)
    return Advice(answers, verdict, tuple(flips.find(ruleset, answers, verdict)), ruleset, given)


def advise_given(ruleset: rules.RuleSet, answers_file: Path | None, sets: list[str]) -> Advice:
    """The advice for an answers file and `--set`s, knowing which answers the user gave."""
    given = given_answers(ruleset.questions, answers_file, sets)
    return advise(ruleset, answers_mod.complete(ruleset.questions, given), frozenset(given))


def to_json_data(advice: Advice) -> dict[str, Any]:
    """The `advisor.recommendation/2` document of docs/formats.md (schema: docs/recommendation.schema.json)."""
    verdict = advice.verdict
    return {
        "schema": SCHEMA,
        "recommendation": verdict.recommendation,
        "confidence": verdict.confidence,
        "tie": verdict.tie,
        "options": {
            option: {
                "name": rules.OPTION_NAMES[option],
                "score": verdict.scores[option],
                "eligible": not verdict.unmet[option],
                "unmet": list(verdict.unmet[option]),
            }
            for option in rules.OPTIONS
        },
        "scores": dict(verdict.scores),
        "answers": dict(advice.answers),
        "requirements": [
            {
                "rule": rule.id,
                "title": rule.title,
                "excludes": list(rule.excludes),
                "because": rule.because,
                "sources": list(rule.sources),
            }
            for rule in verdict.requirements
        ],
        "fired": [
            {
                "rule": rule.id,
                "title": rule.title,
                "effects": dict(rule.effects),
                "because": rule.because,
                "sources": list(rule.sources),
            }
            for rule in verdict.fired
        ],
        "flips": [
            {"question": flip.question, "answer": flip.answer, "recommendation": flip.recommendation}
            for flip in advice.flips
        ],
        "caveats": [
            {"rule": rule.id, "severity": rule.severity, "text": rule.because, "sources": list(rule.sources)}
            for rule in verdict.caveats
        ],
    }
