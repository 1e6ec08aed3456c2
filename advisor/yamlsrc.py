"""Safe YAML loading with positions, for rule, question, case and answers files.

PyYAML's SafeLoader alone is not enough (docs/reliability.md, cases A1-A19): it keeps
the last of duplicate keys, coerces `NO`/`on`/`0755`/`1:30`, recurses past ~490 levels,
and expands alias bombs. So a file goes through: size cap -> strict UTF-8 decode ->
control-character scan -> an event pre-scan (depth, aliases, tags, one document) ->
compose (bounded by the pre-scan) -> our own conversion that keeps every position and
rejects duplicate keys and YAML 1.1 surprises. Every problem carries line and column.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import DataError, InputError, Problem
from advisor.records import Record

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_INT_DIGITS = 18

Loc = tuple[str | int, ...]

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_STANDARD_TAGS = {
    None,
    "!",
    *(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")),
}
_BOOL_WORDS = {"true", "false"}
_YES_NO = {"yes", "no"}
_LEGACY_NUMBER = re.compile(r"^[-+]?(0[0-7_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)$")
# libyaml when present (about ten times faster). Its composer recurses in C, which is why
# the event pre-scan, iterative in both parsers, bounds the depth before anything composes.
_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(repr=False, eq=False)
class Doc(Record):
    """A loaded YAML document: plain data plus the position of every key and value."""

    path: str
    data: Any
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc, key: bool = False) -> tuple[int, int]:
        """Line and column of `loc` (its key when `key`), else of its nearest ancestor."""
        table = self.keys if key else self.values
        while loc:
            if loc in table:
                return table[loc]
            if loc in self.values:
                return self.values[loc]
            loc = loc[:-1]
        return self.values.get((), (1, 1))

    def problem(self, loc: Loc, code: str, message: str, hint: str = "", key: bool = False) -> Problem:
        line, col = self.where(loc, key)
        return Problem(self.path, line, col, code, message, hint)


def load_file(path: Path, shown: str | None = None) -> Doc:
    """Load one YAML file safely; `shown` is the path as the user gave it."""
    name = shown if shown is not None else str(path)
    raw = _read_bounded(path, name)
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str) -> Doc:
    text = decode_utf8(raw, name)
    return load_text(text, name)


def load_text(text: str, name: str) -> Doc:
    """Parse `text` (already decoded) into a Doc, or raise DataError with every problem."""
    _check_characters(text, name)
    _prescan(text, name)
    try:
        node = yaml.compose(text, Loader=_FAST)
    except yaml.MarkedYAMLError as exc:  # the pre-scan parses the same text; kept as a guard
        raise DataError([_syntax_problem(exc, name)]) from None
    if node is None:
        raise DataError([Problem(name, 1, 1, "empty", "the file holds no YAML document")])
    doc = Doc(name, None)
    problems: list[Problem] = []
    doc.data = _convert(node, (), doc, problems)
    if problems:
        raise DataError(problems)
    return doc


def _read_bounded(path: Path, name: str) -> bytes:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        # A FIFO or a device would block or never end: refuse before opening it.
        raise InputError(f"{name}: not a regular file")
    if info.st_size > MAX_BYTES:
        problem = Problem(name, 1, 1, "too-large", f"file is {info.st_size} bytes; the limit is {MAX_BYTES}")
        raise DataError([problem])
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None


def decode_utf8(raw: bytes, name: str) -> str:
    """Strict UTF-8 (a BOM is dropped); an undecodable byte is a located problem."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError([Problem(name, 1, 1, "encoding", "the file is UTF-16", "save it as UTF-8")])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        problem = Problem(name, line, col, "encoding", "the file is not valid UTF-8", "save it as UTF-8")
        raise DataError([problem]) from None


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_characters(text: str, name: str) -> None:
    problems = []
    for match in _CONTROL.finditer(text):
        line, col = _position(text, match.start())
        code_point = f"U+{ord(match.group()):04X}"
        problems.append(Problem(name, line, col, "control-char", f"control character {code_point} in file"))
        if len(problems) >= 10:
            break
    if problems:
        raise DataError(problems)


def _mark(mark: Any) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _syntax_problem(exc: yaml.MarkedYAMLError, name: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = _mark(mark) if mark is not None else (1, 1)
    message = exc.problem or "invalid YAML"
    hint = f"{exc.context}" if exc.context else ""
    if "'\\t'" in message:
        hint = "indent with spaces, not tabs"
    return Problem(name, line, col, "yaml-syntax", message, hint)


def _prescan(text: str, name: str) -> None:
    """Walk the event stream (no recursion) to refuse what composing would choke on."""
    depth = 0
    documents = 0
    problems: list[Problem] = []
    try:
        for event in yaml.parse(text, Loader=_FAST):
            where = _mark(event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.append(
                        Problem(
                            name,
                            *where,
                            "multi-document",
                            "a second YAML document starts here",
                            "keep one document per file",
                        )
                    )
                    break
            elif isinstance(event, yaml.AliasEvent):
                problems.append(
                    Problem(name, *where, "yaml-alias", "aliases (*name) are not allowed", "write the value out")
                )
            elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                problems.extend(_node_event_problems(event, name, where))
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    problems.append(Problem(name, *where, "too-deep", f"nesting deeper than {MAX_DEPTH} levels"))
                    break
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if len(problems) >= 20:
                break
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, name))
    if problems:
        raise DataError(problems)


def _node_event_problems(event: Any, name: str, where: tuple[int, int]) -> list[Problem]:
    problems = []
    if event.anchor is not None:
        problems.append(
            Problem(name, *where, "yaml-anchor", f"anchors (&{event.anchor}) are not allowed", "write the value out")
        )
    if event.tag not in _STANDARD_TAGS:
        problems.append(
            Problem(
                name, *where, "yaml-tag", f"the tag {event.tag} is not allowed", "only plain YAML values are accepted"
            )
        )
    return problems


def _convert(node: yaml.Node, loc: Loc, doc: Doc, problems: list[Problem]) -> Any:
    doc.values[loc] = _mark(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, loc, doc, problems)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*loc, index), doc, problems) for index, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _convert_scalar(node, loc, doc, problems)


def _convert_mapping(node: yaml.MappingNode, loc: Loc, doc: Doc, problems: list[Problem]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        where = _mark(key_node.start_mark)
        key = _mapping_key(key_node, loc, doc, problems)
        if key is None:
            continue
        if key in result:
            first_line = doc.keys[(*loc, key)][0]
            problems.append(
                Problem(doc.path, *where, "duplicate-key", f"key '{key}' appears twice", f"first at line {first_line}")
            )
            continue
        doc.keys[(*loc, key)] = where
        result[key] = _convert(value_node, (*loc, key), doc, problems)
    return result


def _mapping_key(key_node: yaml.Node, loc: Loc, doc: Doc, problems: list[Problem]) -> str | None:
    where = _mark(key_node.start_mark)
    if not isinstance(key_node, yaml.ScalarNode):
        problems.append(Problem(doc.path, *where, "yaml-key", "a key must be plain text, not a list or mapping"))
        return None
    if key_node.tag == "tag:yaml.org,2002:merge":
        problems.append(Problem(doc.path, *where, "yaml-key", "merge keys (<<) are not allowed"))
        return None
    if key_node.tag == "tag:yaml.org,2002:bool" and not key_node.style:
        problems.append(
            Problem(doc.path, *where, "yaml-ambiguous", f"key '{key_node.value}' reads as a boolean", "quote it")
        )
        return None
    return str(key_node.value)


def _convert_scalar(node: yaml.ScalarNode, loc: Loc, doc: Doc, problems: list[Problem]) -> Any:
    tag, value = node.tag, node.value
    if node.style or tag == "tag:yaml.org,2002:str":  # libyaml gives plain scalars style "", PyYAML None
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        if value.lower() in _BOOL_WORDS:
            return value.lower() == "true"
        if value.lower() in _YES_NO:
            # Text, which a yes/no question reads as its answer (and any other field refuses).
            return value
        problems.append(
            doc.problem(
                loc,
                "yaml-ambiguous",
                f"'{value}' reads as a YAML 1.1 boolean",
                "write yes, no, true or false, or quote it for text",
            )
        )
        return None
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return _convert_number(node, loc, doc, problems)
    # Timestamps and other implicit types stay the text they were written as.
    return value


@cache
def _constructor() -> yaml.SafeLoader:
    """PyYAML's own number parsing (hex, underscores, .inf), built on first use."""
    return yaml.SafeLoader("")


def _convert_number(node: yaml.ScalarNode, loc: Loc, doc: Doc, problems: list[Problem]) -> Any:
    value = node.value
    if _LEGACY_NUMBER.match(value):
        problems.append(
            doc.problem(
                loc,
                "yaml-ambiguous",
                f"'{value}' reads as a YAML 1.1 octal or base-60 number",
                "quote it if it is text",
            )
        )
        return None
    if len(value.lstrip("+-")) > MAX_INT_DIGITS and node.tag.endswith(":int"):
        problems.append(doc.problem(loc, "number-too-large", f"the number has more than {MAX_INT_DIGITS} digits"))
        return None
    try:
        return _constructor().construct_object(node)
    except (ValueError, yaml.YAMLError):
        problems.append(doc.problem(loc, "bad-number", f"'{value}' is not a valid number"))
        return None
