"""The guide: what each outcome costs to run, the staged path to it, and the terms reports explain.

Data, with sources, in rules/guide.yaml (declared in advisor/schema.py, documented in
docs/rules.md). Which answers make a cost part or a stage apply is written in the rules'
condition language (advisor.conditions), so there is one way to say "when".

The reports that show costs and stages call `load_guide()` (or `ruleset.guide`); the JSON
output never does. The shipped guide is compiled with the rules (advisor.precompiled), so
the text report reads it back from a pickle rather than parsing the YAML on every run.

Its records are immutable by convention and compared by identity, like every record of the
advisor (advisor.records): frozen dataclasses with generated equality cost this module 9 ms
to import, on the text report's path; these cost 4.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor import conditions
from advisor.records import Record
from advisor.validation import Checker

if TYPE_CHECKING:
    from advisor.questions import QuestionBank

FILE_NAME = "guide.yaml"


@dataclass(repr=False, eq=False)
class Cost(Record):
    """What one option asks of the team to run it."""

    option: str  # celery | crossbar | hybrid | neither
    services: tuple[str, ...]  # stateful services to run
    processes: tuple[str, ...]  # processes beside the app
    deploy: str  # one plain sentence each: what deploying, securing, monitoring, upgrading asks
    secure: str
    monitor: str
    upgrade: str
    sources: tuple[str, ...]  # public URLs backing the sentences


@dataclass(repr=False, eq=False)
class Stage(Record):
    """One step of the staged path."""

    title: str
    text: str  # when and why, in plain words
    sources: tuple[str, ...]
    # The ids of the questions whose answers choose this stage (those its `when` tests), in
    # the bank's order: a report can set it beside what would change the verdict.
    questions: tuple[str, ...] = ()


@dataclass(repr=False, eq=False)
class Term(Record):
    """A term the reports explain at its first use."""

    term: str  # as it appears in rule text
    meaning: str  # short and plain: "term: meaning." under the item that first uses it
    source: str


@dataclass(repr=False, eq=False)
class Part(Record):
    """One service or process of a cost: shown when `when` holds (always, when it is None).

    `general` is how the answer-free list (Guide.costs) says it; a conditional part without
    one is left out of that list (e.g. "the Redis you run", which only answers can say).
    """

    text: str
    when: conditions.Condition | None = None
    general: str = ""

    def shown(self, answers: Mapping[str, Any] | None) -> str:
        """The text to show for these answers (None: the answer-free version), or ""."""
        if self.when is None:
            return self.text
        if answers is None:
            return self.general
        return self.text if self.when.holds(answers) else ""


@dataclass(repr=False, eq=False)
class CostEntry(Record):
    """A cost as written in the file: its parts, chosen by the answers."""

    option: str
    services: tuple[Part, ...]
    processes: tuple[Part, ...]
    deploy: str
    secure: str
    monitor: str
    upgrade: str
    sources: tuple[str, ...]

    def fitted(self, answers: Mapping[str, Any] | None) -> Cost:
        def texts(parts: tuple[Part, ...]) -> tuple[str, ...]:
            return tuple(text for part in parts if (text := part.shown(answers)))

        return Cost(
            self.option,
            texts(self.services),
            texts(self.processes),
            self.deploy,
            self.secure,
            self.monitor,
            self.upgrade,
            self.sources,
        )


@dataclass(repr=False, eq=False)
class StageEntry(Record):
    """A stage as written in the file: the outcome it belongs to and the answers it needs."""

    outcome: str
    when: conditions.Condition | None
    stage: Stage


@dataclass(repr=False, eq=False)
class Guide(Record):
    """Costs for every outcome, the staged paths, and the terms, longest first."""

    costs: dict[str, Cost]  # every outcome, answer-free
    terms: tuple[Term, ...]  # longest first, so "visibility timeout" wins over "timeout"
    cost_entries: tuple[CostEntry, ...] = ()
    stage_entries: tuple[StageEntry, ...] = ()

    def cost(self, outcome: str, answers: Mapping[str, Any]) -> Cost:
        """The cost of `outcome` fitted to the answers (e.g. beat only with scheduled work)."""
        entry = next((entry for entry in self.cost_entries if entry.option == outcome), None)
        return self.costs[outcome] if entry is None else entry.fitted(answers)

    def stages(self, outcome: str, answers: Mapping[str, Any]) -> tuple[Stage, ...]:
        """The staged path for `outcome`: what to start with, and when to add the other half."""
        return tuple(
            entry.stage
            for entry in self.stage_entries
            if entry.outcome == outcome and (entry.when is None or entry.when.holds(answers))
        )

    def term(self, name: str) -> Term | None:
        """The term called `name` (any case), or None."""
        return self._by_name.get(name.lower())

    def terms_in(self, text: str) -> tuple[Term, ...]:
        """The terms `text` uses, in the order of their first use, each once: the reports' matcher, glosses included."""
        return self._finder(text)

    @cached_property
    def _by_name(self) -> dict[str, Term]:
        return {term.term.lower(): term for term in self.terms}

    @cached_property
    def _finder(self) -> TermFinder:
        return TermFinder(self.terms, glosses_count=True)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (advisor.precompiled) without what is derived on first use.
        return {key: value for key, value in self.__dict__.items() if not key.startswith("_")}


# Finding terms in text: the one matcher the reports and the checks of this file share.


class TermFinder:
    """The terms a text uses, in the order of their first use there; the text is left as written."""

    def __init__(self, terms: tuple[Term, ...], glosses_count: bool = False) -> None:
        # Longest first, so that "celery beat" is found before "beat" inside it.
        self.terms = sorted(terms, key=lambda term: -len(term.term))
        self.patterns = {term.term: term_pattern(term.term) for term in terms}
        # A report explains no gloss ("Server-Sent Events (SSE)"); the guide's own checks count it as text shown.
        self.glosses_count = glosses_count

    def __call__(self, *texts: str) -> tuple[Term, ...]:
        text = "\n".join(texts)
        lowered = text.lower()
        found: list[tuple[int, int, Term]] = []
        # A plain substring test first: most terms are absent, and it is much cheaper than a search.
        for term in (term for term in self.terms if term.term.lower() in lowered):
            matches = uses(self.patterns[term.term], text, self.glosses_count)
            match = next((m for m in matches if not _overlaps(m.span(), found)), None)
            if match:
                found.append((match.start(), match.end(), term))
        return tuple(term for _, _, term in sorted(found, key=lambda use: use[0]))


def term_pattern(term: str) -> re.Pattern[str]:
    """Where a term is used as a word: plural too, capitalised at a sentence's start, never
    inside an identifier, a dotted or hyphenated name or a path (wamp.error, django-celery-beat).
    An acronym or a name (WAMP, Flower) matches only as written."""
    first = re.escape(term[0])
    head = first if any(char.isupper() for char in term) else f"[{first}{term[0].upper()}]"
    # A hyphen after it ends the word only before a version ("EUPL-1.2"); "WAMP-CRA" is another term.
    return re.compile(rf"(?<![\w./-]){head}{re.escape(term[1:])}(?:e?s)?(?![\w/]|-\D|\.\w)")


def uses(pattern: re.Pattern[str], text: str, glosses_count: bool = False) -> Iterator[re.Match[str]]:
    """The uses of a term in `text`; "Server-Sent Events (SSE)" glosses the words before it,
    so a term alone in parentheses is not a use to explain (unless `glosses_count`)."""
    for match in pattern.finditer(text):
        glossed = text[match.start() - 1 : match.start()] == "(" and text[match.end() : match.end() + 1] == ")"
        if glosses_count or not glossed:
            yield match


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int, Term]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end, _ in taken)


# Loading.


def load(path: Path, bank: QuestionBank) -> Guide:
    """Load and validate a guide file; raise DataError listing every problem."""
    from advisor import schema
    from advisor.yamlsrc import load_file

    checker, body = schema.check_file(load_file(path), schema.GUIDE_FILE)
    item = schema.check_item(checker, ("guide",), schema.GUIDE) if body is not None else None
    if item is None:
        checker.raise_if_any()
        raise AssertionError("check_item returned None without a problem")  # pragma: no cover
    questions = bank.questions
    costs = [_cost(checker, ("guide", "costs", i), questions) for i in range(len(item["costs"] or []))]
    stages = [_stage(checker, ("guide", "stages", i), questions) for i in range(len(item["stages"] or []))]
    terms = [_term(checker, ("guide", "terms", i)) for i in range(len(item["terms"] or []))]
    _check_complete(checker, costs, stages, terms)
    checker.raise_if_any()
    entries = tuple(cost for cost in costs if cost is not None)
    return Guide(
        costs={entry.option: entry.fitted(None) for entry in entries},
        terms=tuple(sorted((t for t in terms if t is not None), key=lambda term: (-len(term.term), term.term))),
        cost_entries=entries,
        stage_entries=tuple(stage for stage in stages if stage is not None),
    )


def _when(checker: Checker, loc: tuple[Any, ...], item: dict[str, Any], questions: Mapping[str, Any]) -> Any:
    """The parsed `when` of an item, None when it has none; False when it is broken."""
    if "when" not in checker.get(loc):
        return None
    parsed = conditions.parse(checker, (*loc, "when"), questions)
    return False if parsed is None else parsed


def _parts(checker: Checker, loc: tuple[Any, ...], questions: Mapping[str, Any]) -> tuple[Part, ...] | None:
    from advisor import schema

    parts = []
    for index in range(len(checker.get(loc) or [])):
        where = (*loc, index)
        item = schema.check_item(checker, where, schema.PART)
        if item is None:
            return None
        when = _when(checker, where, item, questions)
        if when is False or item["text"] is None:
            return None
        parts.append(Part(item["text"], when, item["general"] or ""))
    return tuple(parts)


def _cost(checker: Checker, loc: tuple[Any, ...], questions: Mapping[str, Any]) -> CostEntry | None:
    from advisor import schema

    before = len(checker.problems)
    item = schema.check_item(checker, loc, schema.COST)
    if item is None:
        return None
    services = _parts(checker, (*loc, "services"), questions) if item["services"] is not None else None
    processes = _parts(checker, (*loc, "processes"), questions) if item["processes"] is not None else None
    if len(checker.problems) > before or services is None or processes is None:
        return None
    return CostEntry(
        item["option"],
        services,
        processes,
        item["deploy"],
        item["secure"],
        item["monitor"],
        item["upgrade"],
        tuple(item["sources"]),
    )


def _stage(checker: Checker, loc: tuple[Any, ...], questions: Mapping[str, Any]) -> StageEntry | None:
    from advisor import schema

    before = len(checker.problems)
    item = schema.check_item(checker, loc, schema.STAGE)
    if item is None:
        return None
    when = _when(checker, loc, item, questions)
    if len(checker.problems) > before or when is False:
        return None
    tested = {test.question.id for test in conditions.tests_in(when)} if when is not None else set()
    ids = tuple(question for question in questions if question in tested)
    return StageEntry(item["outcome"], when, Stage(item["title"], item["text"], tuple(item["sources"]), ids))


def _term(checker: Checker, loc: tuple[Any, ...]) -> Term | None:
    from advisor import schema

    before = len(checker.problems)
    item = schema.check_item(checker, loc, schema.TERM)
    if item is None or len(checker.problems) > before:
        return None
    return Term(item["term"], item["meaning"], item["source"])


def _check_complete(
    checker: Checker, costs: list[CostEntry | None], stages: list[StageEntry | None], terms: list[Term | None]
) -> None:
    """Every outcome has one cost and some stages; no cost or term is written twice.

    The lists keep None for the entries that failed (already reported), so an index is the
    entry's place in the file.
    """
    from advisor import rules

    seen: set[str] = set()
    for index, entry in enumerate(costs):
        if entry is not None and entry.option in seen:
            checker.add(("guide", "costs", index, "option"), "duplicate-cost", f"a second cost for '{entry.option}'")
        seen |= {entry.option} if entry is not None else set()
    staged = {stage.outcome for stage in stages if stage is not None}
    for option in rules.OPTIONS:
        if option not in seen and None not in costs:
            checker.add(("guide", "costs"), "missing-cost", f"no cost for '{option}'", f"add one with option: {option}")
        if option not in staged and None not in stages:
            checker.add(
                ("guide", "stages"), "missing-stages", f"no stage for '{option}'", f"add one with outcome: {option}"
            )
    names: set[str] = set()
    for index, term in enumerate(terms):
        if term is not None and term.term.lower() in names:
            checker.add(("guide", "terms", index, "term"), "duplicate-term", f"term '{term.term}' is explained twice")
        names |= {term.term.lower()} if term is not None else set()


@cache
def load_guide() -> Guide:
    """The shipped guide: compiled with the rules when that compilation is current, else its YAML."""
    from advisor import precompiled, resources

    compiled = precompiled.load_shipped_guide()
    if compiled is not None:
        return compiled
    from advisor import advice

    return load(resources.rules_dir() / FILE_NAME, advice.load_bank())
