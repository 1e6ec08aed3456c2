"""Conditions over answers: a closed set of operators, parsed from YAML, never evaluated as code.

Used by rules (`when`) and by questions (`ask_when`). A condition is a mapping whose
entries must all hold: `all`/`any` (lists), `not` (one condition), or a question id with
a value (equals) or `{operator: operand}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from advisor.records import Record
from advisor.validation import Checker, suggest, type_name
from advisor.yamlsrc import Loc

Answers = Mapping[str, Any]


class Tested(Protocol):
    """What a condition needs of the question it tests; questions.Question is one.

    A protocol rather than the class, so that questions (whose `ask_when` is a condition)
    imports this module and not the other way round.
    """

    @property
    def id(self) -> str: ...

    @property
    def ordered(self) -> bool: ...

    @property
    def values(self) -> list[str]: ...

    def check(self, value: Any) -> str | None: ...

    def coerce(self, value: Any) -> Any: ...

    def allowed(self) -> str: ...

    def rank(self, value: Any) -> float: ...


OPERATORS = ("equals", "not_equals", "in", "not_in", "at_least", "at_most")
LIST_OPERATORS = {"in", "not_in"}
RANK_OPERATORS = {"at_least", "at_most"}
COMBINATORS = ["all", "any", "not", "always"]


@dataclass(repr=False, eq=False)
class Test(Record):
    """One question compared with an operand by one of the closed set of operators."""

    question: Tested
    operator: str
    operand: Any

    @cached_property
    def check(self) -> Callable[[Answers], bool]:
        """The test as one function, compiled on first use: evaluation is the engine's hot loop."""
        return _compile(self.question, self.operator, self.operand)

    def holds(self, answers: Answers) -> bool:
        return self.check(answers)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (advisor.precompiled) without the compiled check, which is rebuilt on first use.
        return {key: value for key, value in self.__dict__.items() if key != "check"}


def _compile(question: Tested, operator: str, operand: Any) -> Callable[[Answers], bool]:
    qid = question.id
    if operator == "equals":
        return lambda answers: bool(answers[qid] == operand)
    if operator == "not_equals":
        return lambda answers: bool(answers[qid] != operand)
    if operator in LIST_OPERATORS:
        members = frozenset(operand)
        if operator == "in":
            return lambda answers: answers[qid] in members
        return lambda answers: answers[qid] not in members
    bound = question.rank(operand)
    # The rank of every value the question allows, looked up rather than computed per verdict.
    ranks = {value: question.rank(value) for value in question.values}
    if not ranks:  # an int question ranks by its value
        if operator == "at_least":
            return lambda answers: answers[qid] >= bound
        return lambda answers: answers[qid] <= bound
    if operator == "at_least":
        return lambda answers: ranks[answers[qid]] >= bound
    return lambda answers: ranks[answers[qid]] <= bound


@dataclass(repr=False, eq=False)
class All(Record):
    """Holds when every part holds (`all:`, and a mapping of several entries)."""

    parts: tuple[Condition, ...]

    def holds(self, answers: Answers) -> bool:
        for part in self.parts:
            if not part.holds(answers):
                return False
        return True


@dataclass(repr=False, eq=False)
class Any_(Record):
    """Holds when at least one part holds (`any:`)."""

    parts: tuple[Condition, ...]

    def holds(self, answers: Answers) -> bool:
        for part in self.parts:
            if part.holds(answers):
                return True
        return False


@dataclass(repr=False, eq=False)
class Not(Record):
    """Holds when its part does not (`not:`)."""

    part: Condition

    def holds(self, answers: Answers) -> bool:
        return not self.part.holds(answers)


Condition = Test | All | Any_ | Not


def compiled(condition: Condition) -> Callable[[Answers], bool]:
    """The condition as one function of the answers: the engine's hot loop calls nothing else."""
    if isinstance(condition, Test):
        return condition.check
    if isinstance(condition, Not):
        inner = compiled(condition.part)
        return lambda answers: not inner(answers)
    parts = tuple(compiled(part) for part in condition.parts)
    if len(parts) == 1:
        return parts[0]
    if isinstance(condition, All):
        return _all_of(parts)
    return _any_of(parts)


def _all_of(parts: tuple[Callable[[Answers], bool], ...]) -> Callable[[Answers], bool]:
    if len(parts) == 2:
        first, second = parts
        return lambda answers: first(answers) and second(answers)

    def every(answers: Answers) -> bool:
        for part in parts:
            if not part(answers):
                return False
        return True

    return every


def _any_of(parts: tuple[Callable[[Answers], bool], ...]) -> Callable[[Answers], bool]:
    if len(parts) == 2:
        first, second = parts
        return lambda answers: first(answers) or second(answers)

    def some(answers: Answers) -> bool:
        for part in parts:
            if part(answers):
                return True
        return False

    return some


def tests_in(condition: Condition) -> list[Test]:
    """Every question test inside a condition (for flips and lint)."""
    if isinstance(condition, Test):
        return [condition]
    if isinstance(condition, Not):
        return tests_in(condition.part)
    return [test for part in condition.parts for test in tests_in(part)]


def parse(checker: Checker, loc: Loc, questions: Mapping[str, Tested]) -> Condition | None:
    """Parse the condition at `loc`, reporting every problem to `checker`."""
    value = checker.get(loc)
    if not isinstance(value, dict) or not value:
        checker.add(
            loc,
            "bad-condition",
            f"a condition must be a non-empty mapping, not {type_name(value)}",
            "for example {browser_clients: push}",
        )
        return None
    parts = [_parse_entry(checker, (*loc, key), key, questions) for key in value]
    if any(part is None for part in parts):
        return None
    clean = tuple(part for part in parts if part is not None)
    return clean[0] if len(clean) == 1 else All(clean)


def _parse_entry(checker: Checker, loc: Loc, key: str, questions: Mapping[str, Tested]) -> Condition | None:
    if key in ("all", "any"):
        items = checker.seq(loc, key)
        if items is None:
            return None
        parts = [parse(checker, (*loc, index), questions) for index in range(len(items))]
        if any(part is None for part in parts):
            return None
        clean = tuple(part for part in parts if part is not None)
        return All(clean) if key == "all" else Any_(clean)
    if key == "not":
        part = parse(checker, loc, questions)
        return Not(part) if part is not None else None
    if key == "always":
        # For caveats that hold whatever the answers; `applies_to` decides when they show.
        if checker.get(loc) is not True:
            checker.add(loc, "bad-condition", "'always' takes only the value true")
            return None
        return All(())
    if key not in questions:
        known = [*COMBINATORS, *questions]
        checker.add(loc, "unknown-question", f"unknown question '{key}'", suggest(key, known), key=True)
        return None
    return _parse_test(checker, loc, questions[key])


def _parse_test(checker: Checker, loc: Loc, question: Tested) -> Condition | None:
    value = checker.get(loc)
    if not isinstance(value, dict):
        return _checked_test(checker, loc, question, "equals", value)
    if len(value) != 1:
        checker.add(
            loc,
            "bad-condition",
            f"'{question.id}' needs exactly one operator, found {len(value)}",
            "allowed: " + ", ".join(OPERATORS),
        )
        return None
    operator, operand = next(iter(value.items()))
    if operator not in OPERATORS:
        checker.add(
            (*loc, operator),
            "unknown-operator",
            f"unknown operator '{operator}'",
            suggest(operator, list(OPERATORS)),
            key=True,
        )
        return None
    return _checked_test(checker, (*loc, operator), question, operator, operand)


def _checked_test(checker: Checker, loc: Loc, question: Tested, operator: str, operand: Any) -> Test | None:
    if operator in RANK_OPERATORS and not question.ordered:
        checker.add(
            loc, "bad-operator", f"'{operator}' needs an ordered question; '{question.id}' is not", "use in or equals"
        )
        return None
    if operator in LIST_OPERATORS and isinstance(operand, list):
        operand = [question.coerce(item) for item in operand]
    else:
        operand = question.coerce(operand)
    values = operand if operator in LIST_OPERATORS else [operand]
    if operator in LIST_OPERATORS and (not isinstance(operand, list) or not operand):
        checker.add(
            loc, "bad-operand", f"'{operator}' needs a non-empty list of values", f"allowed: {question.allowed()}"
        )
        return None
    ok = True
    for index, item in enumerate(values):
        item_loc = (*loc, index) if operator in LIST_OPERATORS else loc
        error = question.check(item)
        if error:
            checker.add(item_loc, "bad-value", f"'{question.id}': {error}", f"allowed: {question.allowed()}")
            ok = False
    if not ok:
        return None
    return Test(question, operator, tuple(operand) if operator in LIST_OPERATORS else operand)


_PHRASES = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "at_least": "is at least",
    "at_most": "is at most",
}


def describe(condition: Condition, indent: str = "") -> list[str]:
    """The condition as indented lines a person can read (`advisor rules show`).

    One test per line, combinators as headings over their indented parts, so that nesting
    stays visible without brackets; values read as in answer files (yes/no, not true/false).
    """
    if isinstance(condition, Test):
        return [f"{indent}{condition.question.id} {_PHRASES[condition.operator]} {_operand(condition.operand)}"]
    if isinstance(condition, Not):
        return [f"{indent}not:", *describe(condition.part, indent + "  ")]
    if not condition.parts:
        return [f"{indent}always"]
    heading = "all of:" if isinstance(condition, All) else "any of:"
    return [f"{indent}{heading}", *(line for part in condition.parts for line in describe(part, indent + "  "))]


def _operand(operand: Any) -> str:
    if isinstance(operand, tuple | list):
        return ", ".join(_operand(item) for item in operand)
    if isinstance(operand, bool):
        return "yes" if operand else "no"
    return str(operand)
