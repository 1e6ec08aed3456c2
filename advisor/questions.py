"""The question bank: a typed Question model loaded from rules/questions.yaml.

Questions are data (copier's model: type, help, choices, default, when); their order in the
file is the wizard's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import conditions
from advisor.records import Record
from advisor.validation import Checker, suggest, type_name
from advisor.yamlsrc import load_file

TYPES = ("choice", "bool", "int")
# Yes/no questions take yes/no as well as true/false, in files, --set and the wizard.
YES_NO = {"true": True, "false": False, "yes": True, "no": False}


@dataclass(repr=False, eq=False)
class Choice(Record):
    """One allowed value of a choice question, with the label the wizard shows."""

    value: str
    label: str


@dataclass(repr=False, eq=False)
class Question(Record):
    """One question of the bank: its type, allowed values, default, help and `ask_when`."""

    id: str
    type: str
    prompt: str
    help: str
    default: Any
    # One sentence on what the answer moves between Celery, Crossbar.io, hybrid and neither (issue 13).
    matters: str = ""
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
            return "yes, no, true, false"
        return f"an integer from {self.minimum} to {self.maximum}"

    def check(self, value: Any) -> str | None:
        """Why `value` is not a valid answer, or None when it is."""
        if self.type == "bool":
            return None if isinstance(value, bool) else f"expected yes or no, not {type_name(value)} {value!r}"
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"expected an integer, not {type_name(value)} {value!r}"
            if not self.minimum <= value <= self.maximum:
                return f"{value} is out of range"
            return None
        if not isinstance(value, str):
            return f"expected one of the choices, not {type_name(value)} {value!r}"
        return None if value in self.values else f"'{value}' is not a choice"

    def coerce(self, value: Any) -> Any:
        """A yes/no question's `yes` or `no` (any case) as true or false; anything else unchanged.

        Files write true and false as YAML booleans, so quoted "true" stays text there.
        """
        if self.type == "bool" and isinstance(value, str) and value.strip().lower() in ("yes", "no"):
            return YES_NO[value.strip().lower()]
        return value

    def parse_text(self, text: str) -> Any:
        """Turn a command-line or typed string into a value of this question's type."""
        if self.type == "bool":
            return YES_NO.get(text.strip().lower(), text)
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


@dataclass(repr=False, eq=False)
class QuestionBank(Record):
    """The questions in the wizard's order, by id."""

    questions: dict[str, Question]

    def defaults(self) -> dict[str, Any]:
        return {qid: question.default for qid, question in self.questions.items()}

    def relevant(self, question: Question, answers: dict[str, Any]) -> bool:
        return question.ask_when is None or question.ask_when.holds(answers)


def load(path: Path) -> QuestionBank:
    """Load and validate questions.yaml; raise DataError listing every problem."""
    from advisor import schema  # loaded on use: the shipped bank usually comes compiled

    checker, items = schema.check_file(load_file(path), schema.QUESTION_FILE)
    found: dict[str, Question] = {}
    pending: list[tuple[int, Question]] = []
    for index, _ in enumerate(items or []):
        question = _parse_question(checker, ("questions", index), found)
        if question is not None:
            found[question.id] = question
            pending.append((index, question))
    # ask_when may refer to any question, so it is parsed once all ids are known.
    bank = {q.id: _with_ask_when(checker, ("questions", i), q, found) for i, q in pending}
    checker.raise_if_any()
    return QuestionBank(bank)


def _parse_question(checker: Checker, loc: tuple[Any, ...], found: dict[str, Question]) -> Question | None:
    from advisor import schema

    item = schema.check_item(checker, loc, schema.QUESTION)
    if item is None or item["id"] is None or item["type"] is None:
        return None
    qid, kind = item["id"], item["type"]
    if qid in found:
        checker.add((*loc, "id"), "duplicate-id", f"question id '{qid}' is defined twice")
        return None
    question = Question(
        id=qid,
        type=kind,
        prompt=item["prompt"] or "",
        help=item["help"] or "",
        default=item["default"],
        matters=item["matters"] or "",
        choices=tuple(Choice(entry["value"], entry["label"]) for entry in _choices(checker, loc, item["choices"])),
        ordered=kind == "int" or bool(item["ordered"]),
        minimum=item["min"] or 0,
        maximum=item["max"] or 0,
    )
    error = question.check(question.default)
    if error:
        checker.add((*loc, "default"), "bad-default", f"default of '{qid}': {error}", f"allowed: {question.allowed()}")
    return question


def _choices(checker: Checker, loc: tuple[Any, ...], entries: list[Any] | None) -> list[dict[str, Any]]:
    """The choices that are valid (the list itself was checked with the question)."""
    from advisor import schema

    locs = [(*loc, "choices", index) for index in range(len(entries or []))]
    checked = [schema.check_item(checker, where, schema.CHOICE) for where in locs]
    return [entry for entry in checked if entry and entry["value"] is not None and entry["label"] is not None]


def _with_ask_when(checker: Checker, loc: tuple[Any, ...], question: Question, bank: dict[str, Question]) -> Question:
    item = checker.get(loc)
    if "ask_when" not in item:
        return question
    condition = conditions.parse(checker, (*loc, "ask_when"), bank)
    return Question(**{**question.__dict__, "ask_when": condition})
