"""Rules: the model, loading from topic files and `--rules DIR`, and their cases.

A rule is data (semgrep-rules style): an id, a title, a `when` condition from the closed
operator set of conditions.py, the reason, and sources; then, by kind, integer `effects` on
the four options (score), the options a stated need `excludes` (requirement), or a warning
with a `severity` shown when the verdict is one of `applies_to` (caveat).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import answers as answers_mod
from advisor import conditions
from advisor.checks import Checker, suggest, top_mapping
from advisor.errors import DataError, InputError, Problem
from advisor.questions import QuestionBank
from advisor.records import Record
from advisor.yamlsrc import Doc, load_file

OPTIONS = ("celery", "crossbar", "hybrid", "neither")
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
EFFECT_RANGE = (-5, 5)
RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# https only, and none of the characters that could break out of an HTML attribute or a
# Markdown link (quotes, angle brackets, backslashes, backticks, whitespace).
SOURCE_URL = re.compile(r"^https://[^\s/\"'<>\\`]+\.[^\s\"'<>\\`]+$")
NOT_RULE_FILES = {"questions.yaml", "scenarios.yaml"}
REQUIRED = ["id", "title", "when", "because", "sources"]
OPTIONAL = ["kind", "effects", "excludes", "severity", "applies_to", "override"]


@dataclass(frozen=True, repr=False)
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


@dataclass(frozen=True, repr=False)
class RuleSet(Record):
    """The question bank and every rule, shipped and the user's, in load order."""

    questions: QuestionBank
    rules: tuple[Rule, ...]

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


@dataclass(frozen=True, repr=False)
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
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or directory")
    root = path.resolve()
    found = []
    for entry in sorted(path.iterdir()):
        if entry.suffix not in (".yaml", ".yml") or entry.name in NOT_RULE_FILES:
            continue
        if entry.name.endswith((".cases.yaml", ".cases.yml")) or not entry.is_file():
            continue
        # A symlink out of the rules directory is not followed (RELIABILITY A26).
        if root not in entry.resolve().parents:
            raise InputError(f"{entry}: points outside {path}; not read")
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
    try:
        checker, _ = top_mapping(doc, "the rule file", "rules")
    except DataError as exc:
        problems.extend(exc.problems)
        return []
    items = checker.seq(("rules",), "rules", allow_empty=True) or []
    parsed = [_parse_rule(checker, ("rules", index), bank) for index in range(len(items))]
    problems.extend(checker.problems)
    return [rule for rule in parsed if rule is not None]


def _parse_rule(checker: Checker, loc: tuple[Any, ...], bank: QuestionBank) -> Rule | None:
    item = checker.mapping(loc, "a rule", REQUIRED, OPTIONAL)
    if item is None or any(key not in item for key in REQUIRED):
        return None
    before = len(checker.problems)
    rule_id = _rule_id(checker, loc)
    kind = item.get("kind", "score")
    if kind not in KINDS:
        checker.add((*loc, "kind"), "bad-value", f"unknown kind {kind!r}", f"allowed: {', '.join(KINDS)}")
    when = conditions.parse(checker, (*loc, "when"), bank.questions)
    effects = _effects(checker, loc, item, kind)
    excludes = _excludes(checker, loc, item, kind)
    severity = _severity(checker, loc, item, kind)
    applies_to = _applies_to(checker, loc, item, kind)
    title = checker.text((*loc, "title"), "title", 100)
    because = checker.text((*loc, "because"), "because")
    sources = _sources(checker, loc)
    override = checker.boolean((*loc, "override"), "override") if "override" in item else False
    if len(checker.problems) > before or when is None or rule_id is None:
        return None
    line = checker.doc.where(loc)[0]
    return Rule(
        rule_id,
        title or "",
        kind,
        when,
        effects,
        because or "",
        sources,
        applies_to,
        checker.doc.path,
        line,
        bool(override),
        excludes,
        severity,
    )


def _rule_id(checker: Checker, loc: tuple[Any, ...]) -> str | None:
    rule_id = checker.text((*loc, "id"), "id", 80)
    if rule_id is not None and not RULE_ID.match(rule_id):
        checker.add(
            (*loc, "id"), "bad-id", f"rule id '{rule_id}' is not kebab-case", "for example beat-single-instance"
        )
        return None
    return rule_id


def _only_for(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any], key: str, kind: str, owner: str) -> bool:
    """Is `key` present where it belongs? Reports it on a rule of another kind, and when missing."""
    if kind != owner:
        if key in item:
            checker.add(
                (*loc, key), f"not-a-{owner}", f"'{key}' is only for {owner} rules", f"remove '{key}'", key=True
            )
        return False
    if key not in item:
        checker.add(loc, "missing-key", f"a {owner} rule has no '{key}'", f"add '{key}:'")
        return False
    return True


def _excludes(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any], kind: str) -> tuple[str, ...]:
    if not _only_for(checker, loc, item, "excludes", kind, "requirement"):
        return ()
    values = checker.seq((*loc, "excludes"), "excludes") or []
    _known_options(checker, (*loc, "excludes"), values)
    if set(values) >= set(OPTIONS):
        checker.add((*loc, "excludes"), "excludes-all", "a requirement cannot exclude every option", "")
    return tuple(option for option in OPTIONS if option in values)


DEFAULT_SEVERITY = "important"  # caveats written before severities existed keep being shown


def _severity(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any], kind: str) -> str:
    if kind == "caveat" and "severity" not in item:
        return DEFAULT_SEVERITY
    if not _only_for(checker, loc, item, "severity", kind, "caveat"):
        return ""
    value = checker.get((*loc, "severity"))
    if value not in SEVERITIES:
        checker.add((*loc, "severity"), "bad-value", f"unknown severity {value!r}", f"allowed: {', '.join(SEVERITIES)}")
        return ""
    return str(value)


def _known_options(checker: Checker, loc: tuple[Any, ...], values: list[Any]) -> None:
    for index, value in enumerate(values):
        if value not in OPTIONS:
            checker.add((*loc, index), "bad-value", f"unknown option {value!r}", f"allowed: {', '.join(OPTIONS)}")


def _effects(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any], kind: str) -> dict[str, int]:
    if kind != "score":
        if "effects" in item:
            checker.add(
                (*loc, "effects"), "effects-not-scored", f"a {kind} rule does not score", "remove 'effects'", key=True
            )
        return {}
    if "effects" not in item:
        checker.add(loc, "missing-key", "a score rule has no 'effects'", "add effects: {celery: 2}")
        return {}
    before = len(checker.problems)
    mapping = checker.mapping((*loc, "effects"), "effects", [], list(OPTIONS)) or {}
    effects = {}
    for option in OPTIONS:
        if option in mapping:
            value = checker.integer((*loc, "effects", option), f"effects.{option}", *EFFECT_RANGE)
            if value:
                effects[option] = value
    if not effects and len(checker.problems) == before:
        checker.add((*loc, "effects"), "no-effect", "effects are all zero", "give at least one option a score")
    return effects


def _applies_to(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any], kind: str) -> tuple[str, ...]:
    if "applies_to" not in item:
        return OPTIONS
    if kind != "caveat":
        checker.add((*loc, "applies_to"), "not-a-caveat", "'applies_to' is only for caveats", key=True)
        return OPTIONS
    values = checker.seq((*loc, "applies_to"), "applies_to") or []
    _known_options(checker, (*loc, "applies_to"), values)
    return tuple(value for value in OPTIONS if value in values)


def _sources(checker: Checker, loc: tuple[Any, ...]) -> tuple[str, ...]:
    values = checker.seq((*loc, "sources"), "sources") or []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not SOURCE_URL.match(value):
            checker.add(
                (*loc, "sources", index),
                "bad-source",
                f"source {value!r} is not an https URL",
                "cite official docs, a spec, an issue thread or a measurement by URL",
            )
    return tuple(str(value) for value in values)


def load_cases(path: Path, ruleset: RuleSet) -> list[Case]:
    """Load a `<topic>.cases.yaml` file; rule ids and answers are checked."""
    doc = load_file(path)
    checker, _ = top_mapping(doc, "the cases file", "cases")
    items = checker.seq(("cases",), "cases") or []
    cases = [_parse_case(checker, ("cases", index), ruleset) for index in range(len(items))]
    checker.raise_if_any()
    return [case for case in cases if case is not None]


def _parse_case(checker: Checker, loc: tuple[Any, ...], ruleset: RuleSet) -> Case | None:
    item = checker.mapping(loc, "a case", ["name", "answers"], ["fires", "not_fires"])
    if item is None or "name" not in item or "answers" not in item:
        return None
    name = checker.text((*loc, "name"), "name", 200) or ""
    given = answers_mod.check_mapping(checker, (*loc, "answers"), ruleset.questions)
    lists = {key: _rule_ids(checker, (*loc, key), ruleset) if key in item else () for key in ("fires", "not_fires")}
    if not lists["fires"] and not lists["not_fires"]:
        checker.add(loc, "empty-case", f"case '{name}' expects nothing", "add fires: or not_fires:")
    line, col = checker.doc.where(loc)
    return Case(name, given, lists["fires"], lists["not_fires"], checker.doc.path, line, col)


def _rule_ids(checker: Checker, loc: tuple[Any, ...], ruleset: RuleSet) -> tuple[str, ...]:
    values = checker.seq(loc, str(loc[-1]), allow_empty=True) or []
    known = [rule.id for rule in ruleset.rules]
    for index, value in enumerate(values):
        if value not in known:
            checker.add((*loc, index), "unknown-rule", f"no rule with id {value!r}", suggest(str(value), known))
    return tuple(str(value) for value in values)
