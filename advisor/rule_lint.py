"""`advisor rules lint`: validate rule files, then run their cases and the scenarios.

Like `semgrep --validate` then `--test`: schema problems first; then every case's
must-fire / must-not-fire expectations; then rules that no case fires; then scenarios;
then the guide (rules/guide.yaml), which the reports draw on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import answers as answers_mod
from advisor import engine, guide, resources, rules, schema
from advisor.errors import DataError, Problem
from advisor.questions import QuestionBank
from advisor.validation import Checker
from advisor.yamlsrc import load_file


@dataclass(frozen=True)
class Scenario:
    """A realistic profile with the verdict argued for from the sources (rules/scenarios.yaml)."""

    id: str
    answers: dict[str, Any]
    expect: str
    argument: str
    path: str
    line: int
    col: int
    confidence: str = ""


@dataclass(frozen=True)
class LintReport:
    """What a clean lint run checked."""

    files: int
    rules: int
    cases: int
    scenarios: int


def lint(bank: QuestionBank, paths: list[Path]) -> LintReport:
    """Lint `paths` (default: the shipped rules); raise DataError with every problem."""
    builtin = rules.rule_files(resources.rules_dir())
    targets = [file for path in paths for file in rules.rule_files(path)] if paths else builtin
    chosen = {file.resolve() for file in targets}
    base = [file for file in builtin if file.resolve() not in chosen]
    ruleset = rules.load(bank, base, targets)
    problems: list[Problem] = []
    case_count = sum(_check_topic(file, ruleset, problems) for file in targets)
    scenario_count = sum(_check_scenarios(path, ruleset, problems) for path in _scenario_files(paths))
    for path in _data_files(paths, "guide"):
        _check_guide(path, bank, problems)
    if problems:
        raise DataError(problems)
    linted = sum(1 for rule in ruleset.rules if Path(rule.path).resolve() in chosen)
    return LintReport(len(targets), linted, case_count, scenario_count)


def _scenario_files(paths: list[Path]) -> list[Path]:
    """The scenarios files (by their top-level key) of the directories linted, or of the shipped rules."""
    return _data_files(paths, "scenarios")


def _data_files(paths: list[Path], kind: str) -> list[Path]:
    """The files of `kind` (by their top-level key) of the directories linted, or of the shipped rules."""
    dirs = [path for path in paths if path.is_dir()] if paths else [resources.rules_dir()]
    return [file for directory in dirs for file in rules.files_of_kind(directory, kind)]


def _check_guide(path: Path, bank: QuestionBank, problems: list[Problem]) -> None:
    try:
        guide.load(path, bank)
    except DataError as exc:
        problems.extend(exc.problems)


def _check_topic(rule_file: Path, ruleset: rules.RuleSet, problems: list[Problem]) -> int:
    """Run the topic's cases; report failures and rules no case fires. Returns the case count."""
    topic_rules = [rule for rule in ruleset.rules if Path(rule.path).resolve() == rule_file.resolve()]
    path = rules.cases_file(rule_file)
    if not path.is_file():
        problems.append(
            Problem(
                str(rule_file),
                1,
                1,
                "no-cases",
                f"no cases file {path.name} beside this file",
                "every rule needs a case that fires it",
            )
        )
        return 0
    try:
        cases = rules.load_cases(path, ruleset)
    except DataError as exc:
        problems.extend(exc.problems)
        return 0
    fired_somewhere: set[str] = set()
    for case in cases:
        fired = {rule.id for rule in engine.firing(ruleset, answers_mod.complete(ruleset.questions, case.answers))}
        fired_somewhere |= fired
        problems.extend(_case_failures(case, fired))
    for rule in topic_rules:
        if rule.id not in fired_somewhere:
            problems.append(
                Problem(
                    rule.path,
                    rule.line,
                    1,
                    "rule-never-fires",
                    f"no case fires rule '{rule.id}'",
                    f"add a case to {path.name}",
                )
            )
    return len(cases)


def _case_failures(case: rules.Case, fired: set[str]) -> list[Problem]:
    failures = []
    for rule_id in case.fires:
        if rule_id not in fired:
            failures.append(
                Problem(
                    case.path, case.line, case.col, "case-failed", f"case '{case.name}': rule '{rule_id}' did not fire"
                )
            )
    for rule_id in case.not_fires:
        if rule_id in fired:
            failures.append(
                Problem(
                    case.path,
                    case.line,
                    case.col,
                    "case-failed",
                    f"case '{case.name}': rule '{rule_id}' fired but must not",
                )
            )
    return failures


def load_scenarios(path: Path, bank: QuestionBank) -> list[Scenario]:
    checker, items = schema.check_file(load_file(path), schema.SCENARIOS_FILE)
    scenarios = [_parse_scenario(checker, ("scenarios", index), bank) for index in range(len(items or []))]
    checker.raise_if_any()
    return [scenario for scenario in scenarios if scenario is not None]


def _parse_scenario(checker: Checker, loc: tuple[Any, ...], bank: QuestionBank) -> Scenario | None:
    item = schema.check_item(checker, loc, schema.SCENARIO)
    if item is None:
        return None
    given = answers_mod.check_mapping(checker, (*loc, "answers"), bank)
    line, col = checker.doc.where(loc)
    return Scenario(
        item["id"] or "",
        given,
        item["expect"] or "",
        item["argument"] or "",
        checker.doc.path,
        line,
        col,
        item["confidence"] or "",
    )


def scenario_failure(scenario: Scenario, ruleset: rules.RuleSet) -> Problem | None:
    """A problem when the rules' verdict differs from the scenario's argued verdict."""
    verdict = engine.decide(ruleset, answers_mod.complete(ruleset.questions, scenario.answers))
    expected = (scenario.expect, scenario.confidence or verdict.confidence)
    if (verdict.recommendation, verdict.confidence) == expected:
        return None
    scores = ", ".join(f"{option} {points}" for option, points in verdict.scores.items())
    wanted = scenario.expect + (f" with {scenario.confidence} confidence" if scenario.confidence else "")
    return Problem(
        scenario.path,
        scenario.line,
        scenario.col,
        "scenario-failed",
        f"scenario '{scenario.id}' expects {wanted}, the rules say {verdict.recommendation}"
        f" with {verdict.confidence} confidence",
        scores,
    )


def _check_scenarios(path: Path, ruleset: rules.RuleSet, problems: list[Problem]) -> int:
    try:
        scenarios = load_scenarios(path, ruleset.questions)
    except DataError as exc:
        problems.extend(exc.problems)
        return 0
    problems.extend(problem for s in scenarios if (problem := scenario_failure(s, ruleset)) is not None)
    return len(scenarios)
