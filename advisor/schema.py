"""Every data file's schema, declared once, as data (cfgv's Map/Required style).

A Shape lists the fields of one kind of mapping: each field's name, whether it is required
(always, or only on items of some kinds), the type of its value and a one-line meaning. From
these declarations come the loaders' checks of keys and plain values (`check_item`), the field
tables of docs/rules.md and the JSON Schema for editors, rules/rules.schema.json:

    python -m advisor.schema docs          rewrite the tables between the markers in docs/*.md
    python -m advisor.schema jsonschema    rewrite rules/rules.schema.json

tests/test_data_schemas.py fails when the committed tables or schema differ from a fresh
rendering. What needs more than the value itself stays in the loaders (a condition or an
answer against the question bank, a rule id against the loaded rules, a duplicate id), but
its shape is declared here too. A file's kind comes from its top-level key (`file_kind`).

The loaders import this module only when they run: the shipped rules usually come from their
compilation (advisor.precompiled), and the declarations are not needed to use it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from advisor import conditions, engine, questions, rules
from advisor.errors import AdvisorError
from advisor.validation import FILE_KINDS, Checker, top_mapping
from advisor.yamlsrc import Doc, Loc, load_file

ROOT = Path(__file__).resolve().parent.parent
JSON_SCHEMA_PATH = ROOT / "rules" / "rules.schema.json"
DOCS_DIR = ROOT / "docs"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Kept here, with the only code that validates against them (not on the start-up path).
RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# https only, and none of the characters that could break out of an HTML attribute or a
# Markdown link (quotes, angle brackets, backslashes, backticks, whitespace).
SOURCE_URL = re.compile(r"^https://[^\s/\"'<>\\`]+\.[^\s\"'<>\\`]+$")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def _quoted(values: tuple[str, ...], last: str = " or ") -> str:
    names = [f"`{value}`" for value in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + last + names[-1]


# Types: what a field's value must be. Each checks a value (or leaves it to the loader, when
# checking needs the question bank or the loaded rules), describes it for the docs table, and
# says it as JSON Schema. Plain classes rather than dataclasses: this module loads whenever
# YAML is validated, and each dataclass generates and compiles code at import.


class Type:
    """A value the loader checks itself; the subclasses check theirs here."""

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        """The value at `loc` when it is usable, else None (with its problems added)."""
        return checker.get(loc)

    def describe(self) -> str:
        raise NotImplementedError

    def json(self) -> dict[str, Any]:
        raise NotImplementedError


class Text(Type):
    def __init__(self, max_len: int = 2000) -> None:
        self.max_len = max_len

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        return checker.text(loc, name, self.max_len)

    def describe(self) -> str:
        return f"text, at most {self.max_len} characters"

    def json(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S", "maxLength": self.max_len}


class Id(Type):
    """Text matching `pattern`, which `style` names for people (kebab-case, snake_case)."""

    def __init__(self, noun: str, pattern: re.Pattern[str], style: str, example: str, max_len: int = 80) -> None:
        self.noun, self.pattern, self.style, self.example, self.max_len = noun, pattern, style, example, max_len

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        value = checker.text(loc, name, self.max_len)
        if value is not None and not self.pattern.match(value):
            checker.add(loc, "bad-id", f"{self.noun} '{value}' is not {self.style}", f"for example {self.example}")
            return None
        return value

    def describe(self) -> str:
        return f"{self.style} (`{self.pattern.pattern}`), at most {self.max_len} characters"

    def json(self) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern.pattern, "maxLength": self.max_len}


class OneOf(Type):
    def __init__(self, values: tuple[str, ...], noun: str) -> None:
        self.values, self.noun = values, noun

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        value = checker.get(loc)
        if value not in self.values:
            checker.add(loc, "bad-value", f"unknown {self.noun} {value!r}", "allowed: " + ", ".join(self.values))
            return None
        return value

    def describe(self) -> str:
        return _quoted(self.values)

    def json(self) -> dict[str, Any]:
        return {"enum": list(self.values)}


class Integer(Type):
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        return checker.integer(loc, name, self.low, self.high)

    def describe(self) -> str:
        return f"an integer from {self.low} to {self.high}"

    def json(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


class Boolean(Type):
    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        return checker.boolean(loc, name)

    def describe(self) -> str:
        return "`true` or `false`"

    def json(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Version(Type):
    """`version: 1`; top_mapping checks it, before anything else."""

    def describe(self) -> str:
        return "`1`"

    def json(self) -> dict[str, Any]:
        return {"const": 1}


class Source(Type):
    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        value = checker.get(loc)
        if not isinstance(value, str) or not SOURCE_URL.match(value):
            checker.add(
                loc,
                "bad-source",
                f"source {value!r} is not an https URL",
                "cite official docs, a spec, an issue thread or a measurement by URL",
            )
            return None
        return value

    def describe(self) -> str:
        return "an `https://` URL"

    def json(self) -> dict[str, Any]:
        return {"type": "string", "pattern": SOURCE_URL.pattern}


class ListOf(Type):
    """A list whose items are each `item`; each item that is not is reported by its index."""

    def __init__(self, item: Type, non_empty: bool = True) -> None:
        self.item, self.non_empty = item, non_empty

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        values = checker.seq(loc, name, allow_empty=not self.non_empty)
        if values is None:
            return None
        for index in range(len(values)):
            self.item.check(checker, (*loc, index), name)
        return values

    def describe(self) -> str:
        return f"a {'non-empty ' if self.non_empty else ''}list, each {self.item.describe()}"

    def json(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json(), **({"minItems": 1} if self.non_empty else {})}


class Options(Type):
    """A non-empty list of options; `all_of_them` is the problem when naming all four is one."""

    def __init__(self, all_of_them: str = "") -> None:
        self.all_of_them = all_of_them
        self.items = ListOf(OneOf(rules.OPTIONS, "option"))

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        values = self.items.check(checker, loc, name)
        if values is not None and self.all_of_them and all(option in values for option in rules.OPTIONS):
            checker.add(loc, f"{name}-all", self.all_of_them)
            return None
        return values

    def describe(self) -> str:
        return f"a non-empty list of {_quoted(rules.OPTIONS, ', ')}" + (", not all of them" if self.all_of_them else "")

    def json(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": {"enum": list(rules.OPTIONS)}, "minItems": 1}
        if self.all_of_them:
            schema["not"] = {"allOf": [{"contains": {"const": option}} for option in rules.OPTIONS]}
        return schema


class Scores(Type):
    """Points on some of the options, within a range, not all zero."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        before = len(checker.problems)
        mapping = checker.mapping(loc, name, [], list(rules.OPTIONS))
        if mapping is None:
            return None
        scores = {}
        for option in rules.OPTIONS:
            if option in mapping:
                value = checker.integer((*loc, option), f"{name}.{option}", self.low, self.high)
                if value:
                    scores[option] = value
        if not scores and len(checker.problems) == before:
            checker.add(loc, "no-effect", f"{name} are all zero", "give at least one option a score")
        return scores if len(checker.problems) == before else None

    def describe(self) -> str:
        options = _quoted(rules.OPTIONS, ", ")
        return f"a mapping of {options} to integers from {self.low} to {self.high}, not all zero"

    def json(self) -> dict[str, Any]:
        points = {"type": "integer", "minimum": self.low, "maximum": self.high}
        return {
            "type": "object",
            "properties": {option: points for option in rules.OPTIONS},
            "additionalProperties": False,
            "minProperties": 1,
            "not": {"additionalProperties": {"const": 0}},
        }


class Condition(Type):
    """Parsed by advisor.conditions against the question bank."""

    def describe(self) -> str:
        return "a condition (see [Conditions](#conditions))"

    def json(self) -> dict[str, Any]:
        return {"$ref": "#/$defs/condition"}


class Answers(Type):
    """Checked by advisor.answers against the question bank."""

    def describe(self) -> str:
        return "a mapping of question id to answer; omitted questions take their defaults"

    def json(self) -> dict[str, Any]:
        return {
            "type": ["object", "null"],
            "propertyNames": {"pattern": ID_PATTERN.pattern},
            "additionalProperties": ANSWER_VALUE,
        }


class Answer(Type):
    """One answer; checked against its question by the loader."""

    def describe(self) -> str:
        return "a value the question allows"

    def json(self) -> dict[str, Any]:
        return ANSWER_VALUE


class RuleRef(Type):
    """A rule id; the loader checks that such a rule is loaded."""

    def describe(self) -> str:
        return "a rule id"

    def json(self) -> dict[str, Any]:
        return {"type": "string", "pattern": RULE_ID.pattern}


class Items(Type):
    """A list of mappings of one Shape; the loader checks each with `check_item`."""

    def __init__(self, shape: Shape, non_empty: bool = True) -> None:
        self.shape, self.non_empty = shape, non_empty

    def check(self, checker: Checker, loc: Loc, name: str) -> Any:
        return checker.seq(loc, name, allow_empty=not self.non_empty)

    def describe(self) -> str:
        keys = ", ".join(f"`{field.name}`" for field in self.shape.fields)
        return f"a {'non-empty ' if self.non_empty else ''}list of {self.shape.plural}, each with {keys}"

    def json(self) -> dict[str, Any]:
        schema = {"type": "array", "items": {"$ref": f"#/$defs/{self.shape.name}"}}
        return {**schema, "minItems": 1} if self.non_empty else schema


class Block(Type):
    """One mapping of a Shape; the loader checks it with `check_item`."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def describe(self) -> str:
        keys = ", ".join(f"`{field.name}`" for field in self.shape.fields)
        return f"a mapping with {keys}"

    def json(self) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{self.shape.name}"}


ANSWER_VALUE: dict[str, Any] = {"type": ["string", "integer", "boolean"]}


class Field:
    """One key of a mapping: its type, its meaning, and where it is required or allowed.

    `kinds`: the field is only for items of these kinds (the Shape's `kind_key`); () is every
    kind. `example`: the hint when a kind's required field is missing.
    """

    def __init__(
        self,
        name: str,
        type_: Type,
        meaning: str,
        required: bool,
        kinds: tuple[str, ...] = (),
        default: Any = None,
        example: str = "",
    ) -> None:
        self.name, self.type, self.meaning, self.required = name, type_, meaning, required
        self.kinds, self.default, self.example = kinds, default, example


def required(name: str, type_: Type, meaning: str, kinds: tuple[str, ...] = (), example: str = "") -> Field:
    return Field(name, type_, meaning, True, kinds, None, example)


def optional(name: str, type_: Type, meaning: str, kinds: tuple[str, ...] = (), default: Any = None) -> Field:
    return Field(name, type_, meaning, False, kinds, default)


class Shape:
    """The fields of one kind of mapping, in the order the docs show them.

    `name` names its JSON Schema definition and docs table; `what` is how problems name one
    ("a rule"); `kind_key` is the field whose value decides which kind-specific fields apply.
    """

    def __init__(
        self, name: str, what: str, plural: str, meaning: str, fields: tuple[Field, ...], kind_key: str = ""
    ) -> None:
        self.name, self.what, self.plural, self.meaning = name, what, plural, meaning
        self.fields, self.kind_key = fields, kind_key
        # Keys every item needs, whatever its kind; and the others it may have.
        self.always = [field.name for field in fields if field.required and not field.kinds]
        self.others = [field.name for field in fields if field.name not in self.always]

    @property
    def noun(self) -> str:
        return self.what.split(" ", 1)[1]

    def field(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)

    @property
    def kinds(self) -> tuple[str, ...]:
        kind_type = self.field(self.kind_key).type if self.kind_key else None
        return kind_type.values if isinstance(kind_type, OneOf) else ()


# The code of a field found on a rule of a kind it is not for; these predate this module.
MISPLACED_CODES = {"score": "effects-not-scored", "caveat": "not-a-caveat", "requirement": "not-a-requirement"}


# The declarations.

RULE = Shape(
    "rule",
    "a rule",
    "rules",
    "One rule: when it fires, what it does, why, and its sources.",
    (
        required(
            "id",
            Id("rule id", RULE_ID, "kebab-case", "beat-single-instance"),
            "unique across every loaded file",
        ),
        required("title", Text(100), "one line, shown in the verdict and the report"),
        optional(
            "kind",
            OneOf(rules.KINDS, "kind"),
            "`score` weighs the options; `requirement` rules out the options that cannot meet a stated need; "
            "`caveat` warns about the verdict",
            default="score",
        ),
        required("when", Condition(), "the condition under which the rule fires"),
        required(
            "effects",
            Scores(*rules.EFFECT_RANGE),
            "points for and against each option; omit the options it does not touch",
            kinds=("score",),
            example="effects: {celery: 2}",
        ),
        required(
            "excludes",
            Options(all_of_them="a requirement cannot exclude every option"),
            "the options that cannot meet the need",
            kinds=("requirement",),
        ),
        optional(
            "severity",
            OneOf(rules.SEVERITIES, "severity"),
            "how much the caveat matters; caveats are ranked by it",
            kinds=("caveat",),
            default=rules.DEFAULT_SEVERITY,
        ),
        optional(
            "applies_to",
            Options(),
            "the caveat is shown only when the verdict is one of these (default: every option)",
            kinds=("caveat",),
        ),
        required("because", Text(), "why, in plain prose, shown with the verdict; for a caveat, the warning"),
        required("sources", ListOf(Source()), "where the reason is written: docs, a spec, an issue, a measurement"),
        optional(
            "override",
            Boolean(),
            "`true` in a `--rules` file replaces the shipped rule with the same id",
            default=False,
        ),
    ),
    kind_key="kind",
)

CHOICE = Shape(
    "choice",
    "a choice",
    "choices",
    "One allowed value of a choice question.",
    (
        required("value", Text(100), "the answer as files and `--set` write it"),
        required("label", Text(200), "what the wizard shows"),
    ),
)

QUESTION = Shape(
    "question",
    "a question",
    "questions",
    "One question of the bank; the file's order is the wizard's order.",
    (
        required(
            "id",
            Id("question id", ID_PATTERN, "snake_case", "team_size"),
            "unique; answers, conditions and `--set` name the question by it",
        ),
        required("type", OneOf(questions.TYPES, "question type"), "what kind of answer it takes"),
        required("prompt", Text(200), "the question, one line"),
        required("help", Text(), "what the question means, for someone who has to answer it"),
        required(
            "matters",
            Text(300),
            "one sentence: what the answer moves between Celery, Crossbar.io, hybrid and neither (the wizard's help)",
        ),
        required("default", Answer(), "the answer when none is given"),
        required("choices", Items(CHOICE), "the allowed answers, in order", kinds=("choice",)),
        optional(
            "ordered",
            Boolean(),
            "whether the choices are in order, so `at_least` and `at_most` can compare them",
            kinds=("choice",),
            default=False,
        ),
        required("min", Integer(-(10**9), 10**9), "the smallest allowed answer", kinds=("int",)),
        required("max", Integer(-(10**9), 10**9), "the largest allowed answer", kinds=("int",)),
        optional("ask_when", Condition(), "ask only when this holds; otherwise the default is the answer"),
    ),
    kind_key="type",
)

CASE = Shape(
    "case",
    "a case",
    "cases",
    "Answers and the rules that must and must not fire for them.",
    (
        required("name", Text(200), "what the case shows"),
        required("answers", Answers(), "the answers to decide on"),
        optional("fires", ListOf(RuleRef(), non_empty=False), "rules that must fire"),
        optional("not_fires", ListOf(RuleRef(), non_empty=False), "rules that must not fire"),
    ),
)

SCENARIO = Shape(
    "scenario",
    "a scenario",
    "scenarios",
    "A realistic profile with the verdict argued for from the sources.",
    (
        required("id", Text(), "names the scenario in test output"),
        required("profile", Text(), "the system, in a few sentences"),
        required("answers", Answers(), "the profile's answers"),
        required("expect", OneOf(rules.OPTIONS, "option"), "the verdict the argument arrives at"),
        required("argument", Text(), "why, citing the decision factors of factors.md"),
        optional(
            "confidence",
            OneOf(engine.LEVELS, "confidence"),
            "the confidence the verdict must have, for close calls that must not read as sure ones",
        ),
    ),
)

SERVICE = Shape(
    "service",
    "a service",
    "services",
    "One named answer set of a portfolio.",
    (
        required("name", Text(100), "the service's name in the output"),
        required("answers", Answers(), "its answers"),
    ),
)


PART = Shape(
    "part",
    "a part",
    "parts",
    "One service or process an option needs, for every answer or only for some.",
    (
        required("text", Text(200), 'what to run, in plain words, as the answers make it ("the Redis you run")'),
        optional("when", Condition(), "needed only when this holds (default: always)"),
        optional(
            "general",
            Text(200),
            'how a list that knows no answers says it ("exactly one beat, if you schedule work"); '
            "a part with `when` and no `general` is left out of that list",
        ),
    ),
)

COST = Shape(
    "cost",
    "a cost",
    "costs",
    "What one outcome asks of the team to run it.",
    (
        required("option", OneOf(rules.OPTIONS, "option"), "the outcome; each has exactly one cost"),
        required("services", Items(PART, non_empty=False), "the stateful services to run"),
        required("processes", Items(PART, non_empty=False), "the processes beside the web application"),
        required("deploy", Text(400), "one plain sentence: what deploying it asks"),
        required("secure", Text(400), "one plain sentence: what securing it asks"),
        required("monitor", Text(400), "one plain sentence: what monitoring it asks"),
        required("upgrade", Text(400), "one plain sentence: what upgrading it asks"),
        required("sources", ListOf(Source()), "where the sentences are backed: docs, a spec, an issue"),
    ),
)

STAGE = Shape(
    "stage",
    "a stage",
    "stages",
    "One step of an outcome's staged path; an outcome's stages that apply are shown in file order.",
    (
        required("outcome", OneOf(rules.OPTIONS, "option"), "the verdict whose path this stage is on"),
        optional("when", Condition(), "the stage applies only when this holds (default: always)"),
        required("title", Text(100), "what to do, as a short imperative"),
        required("text", Text(600), "when and why, in plain words; name the question whose answer would change it"),
        required("sources", ListOf(Source()), "where the reason is written"),
    ),
)

TERM = Shape(
    "term",
    "a term",
    "terms",
    "A word the reports explain at its first use.",
    (
        required("term", Text(60), "as it appears in rule and report text; unique, case-insensitive"),
        required(
            "meaning",
            Text(160),
            "a short plain phrase, shown as 'term: meaning.' under the item that first uses the term",
        ),
        required("source", Source(), "where the meaning is written"),
    ),
)

GUIDE = Shape(
    "guide",
    "the guide",
    "guides",
    "What each outcome costs to run, its staged path, and the terms the reports explain.",
    (
        required("costs", Items(COST), "one per outcome"),
        required("stages", Items(STAGE), "every outcome's staged path"),
        required("terms", Items(TERM), "the terms, in any order (the reports use the longest match first)"),
    ),
)


def _file(name: str, meaning: str, body: str, body_type: Type, body_meaning: str) -> Shape:
    version = required("version", Version(), "the format's version")
    what = FILE_KINDS[body]
    return Shape(name, what, what, meaning, (version, required(body, body_type, body_meaning)))


FILES = (
    _file(
        "rule_file",
        "Topic rules: `<topic>.yaml` in rules/ or in a `--rules` directory.",
        "rules",
        Items(RULE, non_empty=False),
        "the rules",
    ),
    _file(
        "question_file",
        "The question bank: rules/questions.yaml.",
        "questions",
        Items(QUESTION),
        "the questions",
    ),
    _file(
        "cases_file",
        "A topic's cases: `<topic>.cases.yaml` beside the topic file.",
        "cases",
        Items(CASE),
        "the cases",
    ),
    _file(
        "scenarios_file",
        "Realistic profiles and their argued verdicts (rules/scenarios.yaml).",
        "scenarios",
        Items(SCENARIO),
        "the scenarios",
    ),
    _file(
        "answers_file",
        "Answers for `--answers` (docs/formats.md).",
        "answers",
        Answers(),
        "question id to answer",
    ),
    _file(
        "batch_file",
        "A portfolio for `recommend --batch` (docs/formats.md).",
        "services",
        Items(SERVICE),
        "the services",
    ),
    _file(
        "guide_file",
        "Operating costs, staged paths and explained terms for the reports: rules/guide.yaml, shipped only.",
        "guide",
        Block(GUIDE),
        "the guide",
    ),
)
RULE_FILE, QUESTION_FILE, CASES_FILE, SCENARIOS_FILE, ANSWERS_FILE, BATCH_FILE, GUIDE_FILE = FILES
ITEMS = (RULE, CHOICE, QUESTION, CASE, SCENARIO, SERVICE, GUIDE, COST, PART, STAGE, TERM)


def body_key(file: Shape) -> str:
    """The top-level key that holds a file's content, and names its kind."""
    return file.fields[1].name


# Checking.


def check_file(doc: Doc, file: Shape) -> tuple[Checker, Any]:
    """Check the top level (`version: 1` and the body key); return the checker and the checked body."""
    key = body_key(file)
    checker, _ = top_mapping(doc, key)
    return checker, file.fields[1].type.check(checker, (key,), key)


def check_item(checker: Checker, loc: Loc, shape: Shape) -> dict[str, Any] | None:
    """Check the mapping at `loc`: its keys, each field's value, and which fields its kind takes.

    Returns every field's checked value (None when it failed or is absent without a default),
    or None when `loc` is not a mapping or lacks a key every item needs: then nothing else is
    checked, since the rest is likely misread.
    """
    item = checker.mapping(loc, shape.what, shape.always, shape.others)
    if item is None or any(name not in item for name in shape.always):
        return None
    values: dict[str, Any] = {}
    kind = _kind(checker, loc, shape, item, values)
    for field in shape.fields:
        if field.name not in values:
            values[field.name] = _check_field(checker, loc, shape, field, item, kind)
    return values


def _kind(checker: Checker, loc: Loc, shape: Shape, item: dict[str, Any], values: dict[str, Any]) -> str | None:
    """The item's kind, checked first: it decides which fields apply. None when there is none or it is unknown."""
    if not shape.kind_key:
        return None
    field = shape.field(shape.kind_key)
    kind = field.type.check(checker, (*loc, field.name), field.name) if field.name in item else field.default
    values[field.name] = kind
    return None if kind is None else str(kind)


def _check_field(checker: Checker, loc: Loc, shape: Shape, field: Field, item: dict[str, Any], kind: str | None) -> Any:
    # When the kind is unknown (a problem of its own), every field is checked as if it applied.
    applies = not field.kinds or kind is None or kind in field.kinds
    if field.name in item:
        if applies:
            return field.type.check(checker, (*loc, field.name), field.name)
        owners = " or ".join(field.kinds)
        checker.add(
            (*loc, field.name),
            MISPLACED_CODES.get(field.kinds[0], "misplaced-key"),
            f"'{field.name}' is only for {owners} {shape.plural}",
            f"remove '{field.name}'",
            key=True,
        )
        return None
    if field.kinds and kind in field.kinds and field.required:
        article = "an" if kind[0] in "aeiou" else "a"
        checker.add(
            loc,
            "missing-key",
            f"{article} {kind} {shape.noun} has no '{field.name}'",
            f"add {field.example or repr(field.name + ':')}",
        )
        return None
    return field.default if applies else None


# A file's kind, from its top-level key.

SNIFF_BYTES = 4096
KIND_LINE = r"^(" + "|".join(FILE_KINDS) + r")[ \t]*:(?:[ \t]|$)"


def file_kind(path: Path) -> str | None:
    """The file's first top-level key that names a kind of file (`rules`, `cases`, ...), or None.

    Read from the start of the text, without parsing it (this runs on every file of a rules
    directory); only a file where no early line starts with such a key (flow style, a quoted
    key, a long header, not YAML at all) is parsed to find out. None when it names no kind or
    cannot be read or parsed: the loader then reports why.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:  # unreadable: loading it says so, with its path
        return None
    found = re.search(KIND_LINE, head, re.MULTILINE)
    if found:
        return found.group(1)
    try:
        data = load_file(path).data
    except AdvisorError:
        return None
    return next((key for key in data if key in FILE_KINDS), None) if isinstance(data, dict) else None


# The docs tables.


def _required_text(shape: Shape, field: Field) -> str:
    if not field.kinds:
        return "yes" if field.required else "no"
    owners = " and ".join(field.kinds) + " " + shape.plural
    return owners if field.required else f"no; {owners} only"


def _value_text(field: Field) -> str:
    if field.default is None:
        return field.type.describe()
    default = str(field.default).lower() if isinstance(field.default, bool) else field.default
    return f"{field.type.describe()} (default `{default}`)"


def docs_table(shape: Shape) -> str:
    """The Markdown table of a shape's fields."""
    rows = ["| field | required | value | meaning |", "|---|---|---|---|"]
    for field in shape.fields:
        rows.append(f"| `{field.name}` | {_required_text(shape, field)} | {_value_text(field)} | {field.meaning} |")
    return "\n".join(rows) + "\n"


def files_table() -> str:
    """Which top-level key makes which kind of file."""
    rows = ["| top-level key | the file |", "|---|---|"]
    rows += [f"| `{body_key(file)}` | {file.meaning} |" for file in FILES]
    return "\n".join(rows) + "\n"


BLOCK = r"(<!-- schema:([a-z_]+) -->\n).*?(<!-- /schema:\2 -->)"


def render_docs(text: str) -> str:
    """`text` with every `<!-- schema:NAME -->` ... `<!-- /schema:NAME -->` block regenerated."""

    def table(match: re.Match[str]) -> str:
        name = match.group(2)
        shapes = {shape.name: shape for shape in ITEMS}
        if name != "files" and name not in shapes:
            raise ValueError(f"no schema table called {name!r}; known: files, {', '.join(shapes)}")
        return match.group(1) + (files_table() if name == "files" else docs_table(shapes[name])) + match.group(3)

    return re.sub(BLOCK, table, text, flags=re.DOTALL)


# The JSON Schema.


def shape_json(shape: Shape) -> dict[str, Any]:
    properties = {field.name: _field_json(field) for field in shape.fields}
    schema: dict[str, Any] = {
        "type": "object",
        "description": shape.meaning,
        "required": shape.always,
        "properties": properties,
        "additionalProperties": False,
    }
    by_kind = [_kind_json(shape, kind) for kind in shape.kinds]
    if any(by_kind):
        schema["allOf"] = [rule for rule in by_kind if rule]
    return schema


def _field_json(field: Field) -> dict[str, Any]:
    extra = {} if field.default is None else {"default": field.default}
    return {**field.type.json(), "description": field.meaning, **extra}


def _kind_json(shape: Shape, kind: str) -> dict[str, Any]:
    """What an item of `kind` must have and must not: {"if": its kind is `kind`, "then": ...}."""
    then: dict[str, Any] = {}
    needed = [f.name for f in shape.fields if f.kinds and f.required and kind in f.kinds]
    if needed:
        then["required"] = needed
    refused = {f.name: False for f in shape.fields if f.kinds and kind not in f.kinds}
    if refused:
        then["properties"] = refused
    if not then:
        return {}
    condition: dict[str, Any] = {"properties": {shape.kind_key: {"const": kind}}}
    if kind != shape.field(shape.kind_key).default:
        condition["required"] = [shape.kind_key]
    return {"if": condition, "then": then}


def condition_json() -> dict[str, Any]:
    """A condition (advisor.conditions): combinators, or question ids with a value or {operator: operand}."""
    nested = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
    test = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"enum": list(conditions.OPERATORS)},
    }
    return {
        "type": "object",
        "description": "Every entry must hold: all, any, not, always, or a question id with a value"
        " or {operator: operand}.",
        "minProperties": 1,
        "properties": {
            "all": nested,
            "any": nested,
            "not": {"$ref": "#/$defs/condition"},
            "always": {"const": True},
        },
        "propertyNames": {"pattern": ID_PATTERN.pattern},
        "additionalProperties": {"anyOf": [ANSWER_VALUE, test]},
    }


def json_schema() -> dict[str, Any]:
    """One JSON Schema for every kind of file, chosen by its top-level key as the loaders do."""
    kinds = [body_key(file) for file in FILES]
    definitions = {shape.name: shape_json(shape) for shape in (*FILES, *ITEMS)}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "advisor data file",
        "description": "Generated from advisor/schema.py by `python -m advisor.schema jsonschema`; do not edit. "
        "A file's kind is its top-level key: " + ", ".join(kinds) + ".",
        "type": "object",
        "anyOf": [{"required": [key]} for key in kinds],
        "allOf": [{"if": {"required": [body_key(f)]}, "then": {"$ref": f"#/$defs/{f.name}"}} for f in FILES],
        "$defs": {**definitions, "condition": condition_json()},
    }


def json_schema_text() -> str:
    import json

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["jsonschema"]:
        JSON_SCHEMA_PATH.write_text(json_schema_text(), encoding="utf-8")
        return 0
    if argv == ["docs"]:
        for path in sorted(DOCS_DIR.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            if render_docs(text) != text:
                path.write_text(render_docs(text), encoding="utf-8")
        return 0
    sys.stderr.write("usage: python -m advisor.schema docs|jsonschema\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
