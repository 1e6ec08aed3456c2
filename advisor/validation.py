"""Small schema checks over a loaded Doc, collecting located problems.

The schemas are declared once, in advisor/schema.py; these helpers give every check the same
wording: the field, what was expected, and the allowed values.
"""

from __future__ import annotations

import difflib
from typing import Any

from advisor.errors import DataError, Problem
from advisor.yamlsrc import Doc, Loc


def type_name(value: Any) -> str:
    """The YAML word for a Python value's type, as users wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {int: "integer", float: "number", str: "text", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__
    )


MAX_LISTED = 12


def suggest(word: str, known: list[str]) -> str:
    """A 'did you mean' hint, or the known values when nothing is close."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if len(known) > MAX_LISTED:
        # A list of every rule id helps nobody; name a few and where to see the rest.
        return "allowed: " + ", ".join(known[:MAX_LISTED]) + f", ... ({len(known)} in all)"
    return "allowed: " + ", ".join(known)


class Checker:
    """Collects problems about one Doc; `raise_if_any` ends the run with all of them."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, loc: Loc, code: str, message: str, hint: str = "", key: bool = False) -> None:
        self.problems.append(self.doc.problem(loc, code, message, hint, key))

    def raise_if_any(self) -> None:
        if self.problems:
            raise DataError(self.problems)

    def get(self, loc: Loc) -> Any:
        value = self.doc.data
        for part in loc:
            value = value[part]
        return value

    def mapping(self, loc: Loc, what: str, required: list[str], optional: list[str]) -> dict[str, Any] | None:
        """Check that `loc` is a mapping with the required keys and no unknown ones."""
        value = self.get(loc)
        if not isinstance(value, dict):
            self.add(loc, "wrong-type", f"{what} must be a mapping, not {type_name(value)}")
            return None
        known = required + optional
        for key in value:
            if key not in known:
                self.add((*loc, key), "unknown-key", f"unknown key '{key}' in {what}", suggest(key, known), key=True)
        for key in required:
            if key not in value:
                self.add(loc, "missing-key", f"{what} has no '{key}'", f"add '{key}:'")
        return value

    def text(self, loc: Loc, field: str, max_len: int = 2000) -> str | None:
        value = self.get(loc)
        if not isinstance(value, str) or not value.strip():
            self.add(
                loc,
                "wrong-type",
                f"'{field}' must be non-empty text, not {type_name(value)}",
                "quote it" if isinstance(value, (bool, int, float)) else "",
            )
            return None
        if len(value) > max_len:
            self.add(loc, "too-long", f"'{field}' is {len(value)} characters; the limit is {max_len}")
            return None
        return value

    def integer(self, loc: Loc, field: str, low: int, high: int) -> int | None:
        value = self.get(loc)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(loc, "wrong-type", f"'{field}' must be an integer, not {type_name(value)}")
            return None
        if not low <= value <= high:
            self.add(loc, "out-of-range", f"'{field}' is {value}; it must be from {low} to {high}")
            return None
        return value

    def boolean(self, loc: Loc, field: str) -> bool | None:
        value = self.get(loc)
        if not isinstance(value, bool):
            self.add(loc, "wrong-type", f"'{field}' must be true or false, not {type_name(value)}")
            return None
        return value

    def seq(self, loc: Loc, field: str, allow_empty: bool = False) -> list[Any] | None:
        value = self.get(loc)
        if not isinstance(value, list):
            self.add(loc, "wrong-type", f"'{field}' must be a list, not {type_name(value)}")
            return None
        if not value and not allow_empty:
            self.add(loc, "empty-list", f"'{field}' must not be empty")
            return None
        return value

    def version(self, top: dict[str, Any], supported: int = 1) -> None:
        value = top.get("version")
        if value != supported and "version" in top:
            self.add(
                ("version",),
                "bad-version",
                f"version {value!r} is not supported",
                f"this advisor reads version {supported}",
            )


# Every kind of data file, by the top-level key that holds its content and names its kind,
# and how problems name it. advisor.schema declares what each holds.
FILE_KINDS = {
    "rules": "the rule file",
    "questions": "the question file",
    "cases": "the cases file",
    "scenarios": "the scenarios file",
    "answers": "the answers file",
    "services": "the batch file",
    "guide": "the guide file",
}


def top_mapping(doc: Doc, kind: str) -> tuple[Checker, dict[str, Any]]:
    """Check the common top level `version: 1` + `kind:`; raise at once if it is unusable."""
    checker = Checker(doc)
    top = checker.mapping((), FILE_KINDS[kind], ["version", kind], [])
    if top is not None:
        checker.version(top)
    if top is None or kind not in top or top.get("version") != 1:
        raise DataError(checker.problems)
    return checker, top
