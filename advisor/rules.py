"""Rules: the model, loading from topic files and `--rules DIR`, and their cases.

A rule is data (semgrep-rules style): an id, a title, a `when` condition from the closed
operator set of conditions.py, the reason, and sources; then, by kind, integer `effects` on
the four options (score), the options a stated need `excludes` (requirement), or a warning
with a `severity` shown when the verdict is one of `applies_to` (caveat). The fields are
declared in advisor/schema.py; which files hold rules is decided by their top-level key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor import answers as answers_mod
from advisor import conditions
from advisor.errors import DataError, InputError, Problem
from advisor.questions import QuestionBank
from advisor.records import Record
from advisor.validation import Checker, suggest
from advisor.yamlsrc import Doc, load_file

if TYPE_CHECKING:
    from advisor.guide import Guide

OPTIONS = ("celery", "crossbar", "hybrid", "neither")
# What `advisor new` can make: every option but "neither yet", which needs no framework.
STACKS = tuple(option for option in OPTIONS if option != "neither")
OPTION_NAMES = {
    "celery": "Celery",
    "crossbar": "Crossbar.io",
    "hybrid": "Hybrid (Celery + Crossbar.io)",
    "neither": "Neither yet",
}
# A tie goes to the simpler stack: one process, then one system, then both.
SIMPLER_FIRST = ("neither", "celery", "crossbar", "hybrid")
KINDS = ("score", "caveat", "requirement")
SEVERITIES = ("blocking", "important", "note")
DEFAULT_SEVERITY = "important"  # caveats written before severities existed keep being shown
EFFECT_RANGE = (-5, 5)


@dataclass(repr=False, eq=False)
class Rule(Record):
    """One rule: when it fires, what it does to each option, why, and where it is written."""

    id: str
    title: str
    kind: str
    when: conditions.Condition
    effects: dict[str, int]
    because: str
    sources: tuple[str, ...]
    applies_to: tuple[str, ...]
    path: str
    line: int
    override: bool = False
    excludes: tuple[str, ...] = ()
    severity: str = ""

    @property
    def is_caveat(self) -> bool:
        return self.kind == "caveat"

    @property
    def is_requirement(self) -> bool:
        return self.kind == "requirement"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(repr=False, eq=False)
class RuleSet(Record):
    """The question bank and every rule, shipped and the user's, in load order."""

    questions: QuestionBank
    rules: tuple[Rule, ...]

    def find(self, rule_id: str) -> Rule:
        """The rule with this id; an unknown id is the user's error, with the nearest ids."""
        rule = next((rule for rule in self.rules if rule.id == rule_id), None)
        if rule is None:
            raise InputError(f"no rule '{rule_id}' ({suggest(rule_id, [rule.id for rule in self.rules])})")
        return rule

    @cached_property
    def compiled(self) -> tuple[tuple[Rule, Callable[[conditions.Answers], bool]], ...]:
        """Each rule with its condition as one function, built on first use (engine.firing)."""
        return tuple((rule, conditions.compiled(rule.when)) for rule in self.rules)

    @cached_property
    def dependents(self) -> dict[str, tuple[int, ...]]:
        """Question id -> the positions of the rules whose condition tests it.

        A rule's outcome depends only on the questions it tests, so a flip (one answer
        changed) re-evaluates just these.
        """
        found: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            for question_id in {test.question.id for test in conditions.tests_in(rule.when)}:
                found.setdefault(question_id, []).append(index)
        return {question_id: tuple(indexes) for question_id, indexes in found.items()}

    @property
    def guide(self) -> Guide:
        """The shipped guide (costs, staged paths, terms) for the reports that show it.

        Loaded on first use (advisor.guide.load_guide caches it): the JSON output never asks.
        It is the shipped one whatever `--rules` added, since rule files carry no guide.
        """
        from advisor.guide import load_guide

        return load_guide()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (advisor.precompiled) without what is derived on first use.
        return {key: value for key, value in self.__dict__.items() if key not in ("compiled", "dependents")}


@dataclass(repr=False, eq=False)
class Case(Record):
    """One entry of a `*.cases.yaml`: answers and the rules that must and must not fire."""

    name: str
    answers: dict[str, Any]
    fires: tuple[str, ...]
    not_fires: tuple[str, ...]
    path: str
    line: int
    col: int


def rule_files(path: Path) -> list[Path]:
    """Topic rule files under `path` (a directory, or one file), in a stable order."""
    return [path] if path.is_file() else files_of_kind(path, "rules")


def files_of_kind(directory: Path, kind: str) -> list[Path]:
    """The YAML files in `directory` whose top-level key is `kind` (rules, cases, scenarios, ...).

    A file's name does not matter. One that names no kind counts as rules, so that loading it
    reports what is wrong with it rather than passing it over.
    """
    from advisor import schema  # loaded on use: the shipped rules usually come compiled

    if not directory.is_dir():
        raise InputError(f"{directory}: no such file or directory")
    root = directory.resolve()
    found = []
    for entry in sorted(directory.iterdir()):
        if entry.suffix not in (".yaml", ".yml") or not entry.is_file():
            continue
        # A symlink out of the rules directory is not followed (docs/reliability.md, A26).
        if entry.is_symlink() and root not in entry.resolve().parents:
            raise InputError(f"{entry}: points outside {directory}; not read")
        if (schema.file_kind(entry) or "rules") == kind:
            found.append(entry)
    return found


def cases_file(rule_file: Path) -> Path:
    return rule_file.with_name(rule_file.name.rsplit(".", 1)[0] + ".cases.yaml")


def load_docs(paths: list[Path]) -> tuple[list[Doc], list[Problem]]:
    """Load every rule file; collect YAML problems of all files rather than stop at the first."""
    docs, problems = [], []
    for path in paths:
        try:
            docs.append(load_file(path))
        except DataError as exc:
            problems.extend(exc.problems)
    return docs, problems


def load(bank: QuestionBank, builtin: list[Path], extra: list[Path] | None = None) -> RuleSet:
    """Load built-in rule files, then users' files whose rules add to or override them."""
    docs, problems = load_docs(builtin)
    extra_docs, extra_problems = load_docs(extra or [])
    problems += extra_problems
    by_id: dict[str, Rule] = {}
    for doc, is_user in [(d, False) for d in docs] + [(d, True) for d in extra_docs]:
        for rule in _parse_file(doc, bank, problems):
            _register(rule, by_id, problems, allow_override=is_user)
    if problems:
        raise DataError(problems)
    return RuleSet(bank, tuple(by_id.values()))


def _register(rule: Rule, by_id: dict[str, Rule], problems: list[Problem], allow_override: bool) -> None:
    existing = by_id.get(rule.id)
    if existing is None:
        if rule.override:
            problems.append(
                Problem(
                    rule.path,
                    rule.line,
                    1,
                    "nothing-to-override",
                    f"rule '{rule.id}' says override: true, but no loaded rule has that id",
                    suggest(rule.id, list(by_id)),
                )
            )
        by_id[rule.id] = rule
    elif rule.override and allow_override:
        by_id[rule.id] = rule
    else:
        problems.append(
            Problem(
                rule.path,
                rule.line,
                1,
                "duplicate-rule",
                f"rule id '{rule.id}' is already defined",
                f"first at {existing.location}; set override: true in a --rules file to replace it",
            )
        )


def _parse_file(doc: Doc, bank: QuestionBank, problems: list[Problem]) -> list[Rule]:
    from advisor import schema

    try:
        checker, items = schema.check_file(doc, schema.RULE_FILE)
    except DataError as exc:
        problems.extend(exc.problems)
        return []
    parsed = [_parse_rule(checker, ("rules", index), bank) for index in range(len(items or []))]
    problems.extend(checker.problems)
    return [rule for rule in parsed if rule is not None]


def _parse_rule(checker: Checker, loc: tuple[Any, ...], bank: QuestionBank) -> Rule | None:
    from advisor import schema

    before = len(checker.problems)
    item = schema.check_item(checker, loc, schema.RULE)
    if item is None:
        return None
    when = conditions.parse(checker, (*loc, "when"), bank.questions)
    if len(checker.problems) > before or when is None:
        return None
    return Rule(
        item["id"],
        item["title"],
        item["kind"],
        when,
        item["effects"] or {},
        item["because"],
        tuple(item["sources"]),
        _in_option_order(item["applies_to"] or OPTIONS),
        checker.doc.path,
        checker.doc.where(loc)[0],
        item["override"],
        _in_option_order(item["excludes"] or ()),
        item["severity"] or "",
    )


def _in_option_order(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(option for option in OPTIONS if option in values)


def load_cases(path: Path, ruleset: RuleSet) -> list[Case]:
    """Load a `<topic>.cases.yaml` file; rule ids and answers are checked."""
    from advisor import schema

    checker, items = schema.check_file(load_file(path), schema.CASES_FILE)
    cases = [_parse_case(checker, ("cases", index), ruleset) for index in range(len(items or []))]
    checker.raise_if_any()
    return [case for case in cases if case is not None]


def _parse_case(checker: Checker, loc: tuple[Any, ...], ruleset: RuleSet) -> Case | None:
    from advisor import schema

    item = schema.check_item(checker, loc, schema.CASE)
    if item is None:
        return None
    name = item["name"] or ""
    given = answers_mod.check_mapping(checker, (*loc, "answers"), ruleset.questions)
    lists = {key: _rule_ids(checker, (*loc, key), item[key] or [], ruleset) for key in ("fires", "not_fires")}
    if not lists["fires"] and not lists["not_fires"]:
        checker.add(loc, "empty-case", f"case '{name}' expects nothing", "add fires: or not_fires:")
    line, col = checker.doc.where(loc)
    return Case(name, given, lists["fires"], lists["not_fires"], checker.doc.path, line, col)


def _rule_ids(checker: Checker, loc: tuple[Any, ...], values: list[Any], ruleset: RuleSet) -> tuple[str, ...]:
    known = [rule.id for rule in ruleset.rules]
    for index, value in enumerate(values):
        if value not in known:
            checker.add((*loc, index), "unknown-rule", f"no rule with id {value!r}", suggest(str(value), known))
    return tuple(str(value) for value in values)
