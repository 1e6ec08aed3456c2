"""The question bank: a typed Question model loaded from rules/questions.yaml.

Questions are data (copier's model: type, help, choices, default, when); their order in the
file is the wizard's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import conditions
from advisor.checks import Checker, suggest, top_mapping, type_name
from advisor.records import Record
from advisor.yamlsrc import load_file

TYPES = ["choice", "bool", "int"]
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, repr=False)
class Choice(Record):
    """One allowed value of a choice question, with the label the wizard shows."""

    value: str
    label: str


@dataclass(frozen=True, repr=False)
class Question(Record):
    """One question of the bank: its type, allowed values, default, help and `ask_when`."""

    id: str
    type: str
    prompt: str
    help: str
    default: Any
    choices: tuple[Choice, ...] = ()
    ordered: bool = False
    minimum: int = 0
    maximum: int = 0
    ask_when: conditions.Condition | None = None

    @property
    def values(self) -> list[str]:
        return [choice.value for choice in self.choices]

    def allowed(self) -> str:
        """The allowed values, as a hint."""
        if self.type == "choice":
            return ", ".join(self.values)
        if self.type == "bool":
            return "true, false"
        return f"an integer from {self.minimum} to {self.maximum}"

    def check(self, value: Any) -> str | None:
        """Why `value` is not a valid answer, or None when it is."""
        if self.type == "bool":
            return None if isinstance(value, bool) else f"expected true or false, not {type_name(value)} {value!r}"
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"expected an integer, not {type_name(value)} {value!r}"
            if not self.minimum <= value <= self.maximum:
                return f"{value} is out of range"
            return None
        if not isinstance(value, str):
            return f"expected one of the choices, not {type_name(value)} {value!r}"
        return None if value in self.values else f"'{value}' is not a choice"

    def parse_text(self, text: str) -> Any:
        """Turn a command-line or typed string into a value of this question's type."""
        if self.type == "bool":
            lowered = text.strip().lower()
            return {"true": True, "false": False}.get(lowered, text)
        if self.type == "int":
            try:
                return int(text.strip())
            except ValueError:
                return text
        return text.strip()

    def rank(self, value: Any) -> float:
        """Position used by at_least / at_most: the int itself, or the choice's index."""
        if self.type == "int":
            return float(value)
        return float(self.values.index(value))

    def hint_for(self, value: Any) -> str:
        if self.type == "choice" and isinstance(value, str):
            return suggest(value, self.values)
        return f"allowed: {self.allowed()}"


@dataclass(frozen=True, repr=False)
class QuestionBank(Record):
    """The questions in the wizard's order, by id."""

    questions: dict[str, Question]

    def defaults(self) -> dict[str, Any]:
        return {qid: question.default for qid, question in self.questions.items()}

    def relevant(self, question: Question, answers: dict[str, Any]) -> bool:
        return question.ask_when is None or question.ask_when.holds(answers)


def load(path: Path) -> QuestionBank:
    """Load and validate questions.yaml; raise DataError listing every problem."""
    doc = load_file(path)
    checker, _ = top_mapping(doc, "the question file", "questions")
    items = checker.seq(("questions",), "questions") or []
    found: dict[str, Question] = {}
    pending: list[tuple[int, Question]] = []
    for index, _ in enumerate(items):
        question = _parse_question(checker, ("questions", index), found)
        if question is not None:
            found[question.id] = question
            pending.append((index, question))
    # ask_when may refer to any question, so it is parsed once all ids are known.
    bank = {q.id: _with_ask_when(checker, ("questions", i), q, found) for i, q in pending}
    checker.raise_if_any()
    return QuestionBank(bank)


def _parse_question(checker: Checker, loc: tuple[Any, ...], found: dict[str, Question]) -> Question | None:
    required = ["id", "type", "prompt", "help", "default"]
    item = checker.mapping(loc, "a question", required, ["choices", "ordered", "min", "max", "ask_when"])
    if item is None or any(key not in item for key in required):
        return None
    qid = checker.text((*loc, "id"), "id")
    if qid is None:
        return None
    if not ID_PATTERN.match(qid):
        checker.add((*loc, "id"), "bad-id", f"question id '{qid}' must be snake_case")
        return None
    if qid in found:
        checker.add((*loc, "id"), "duplicate-id", f"question id '{qid}' is defined twice")
        return None
    kind = item["type"]
    if kind not in TYPES:
        checker.add((*loc, "type"), "bad-value", f"unknown question type {kind!r}", f"allowed: {', '.join(TYPES)}")
        return None
    if kind == "int":
        for bound in ("min", "max"):
            if bound not in item:
                checker.add(loc, "missing-key", f"int question '{qid}' has no '{bound}'")
            else:
                checker.integer((*loc, bound), bound, -(10**9), 10**9)
    question = Question(
        id=qid,
        type=kind,
        prompt=checker.text((*loc, "prompt"), "prompt", 200) or "",
        help=checker.text((*loc, "help"), "help") or "",
        default=item["default"],
        choices=_parse_choices(checker, loc, item) if kind == "choice" else (),
        ordered=kind == "int" or bool(item.get("ordered", False)),
        minimum=item.get("min", 0) if kind == "int" else 0,
        maximum=item.get("max", 0) if kind == "int" else 0,
    )
    error = question.check(question.default)
    if error:
        checker.add((*loc, "default"), "bad-default", f"default of '{qid}': {error}", f"allowed: {question.allowed()}")
    return question


def _parse_choices(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any]) -> tuple[Choice, ...]:
    entries = checker.seq((*loc, "choices"), "choices") if "choices" in item else None
    if entries is None:
        checker.add(loc, "missing-key", "a choice question needs 'choices'")
        return ()
    choices = []
    for index, _ in enumerate(entries):
        entry = checker.mapping((*loc, "choices", index), "a choice", ["value", "label"], [])
        if entry and isinstance(entry.get("value"), str) and isinstance(entry.get("label"), str):
            choices.append(Choice(entry["value"], entry["label"]))
        elif entry is not None:
            checker.add((*loc, "choices", index), "wrong-type", "a choice's value and label must be text")
    return tuple(choices)


def _with_ask_when(checker: Checker, loc: tuple[Any, ...], question: Question, bank: dict[str, Question]) -> Question:
    item = checker.get(loc)
    if "ask_when" not in item:
        return question
    condition = conditions.parse(checker, (*loc, "ask_when"), bank)
    return Question(**{**question.__dict__, "ask_when": condition})
