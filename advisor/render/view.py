"""The view model every report format shows: computed once from an Advice and the render options.

The formats (text, Markdown, HTML, ADR) only lay out and escape what is here, so they cannot
disagree. Fields come in the report's reading order: first the screen that decides (verdict,
what its confidence means here, the fit table, the decisive reasons, the blocking and important
caveats), then what would change it, operating cost, a staged path and next steps, then the
details, where each fired rule is told once. Strings are plain text; each format escapes them.

Each item that shows text (a reason, a caveat, a cost, a stage, a step, a rule in the details ...)
carries the terms its text uses, found once here (`guide.TermFinder`); the text itself stays as written.
Each format walks its items in its own order with a `FirstUse` and explains a term under the
first item that uses it, so the ADR, which has an order of its own, explains in that order.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor import __version__, diagram, engine, guide
from advisor.answers import as_text
from advisor.errors import InputError
from advisor.records import Record
from advisor.render import DecisionRecord
from advisor.rules import OPTION_NAMES as NAMES
from advisor.rules import OPTIONS, SIMPLER_FIRST, Rule

if TYPE_CHECKING:
    from advisor.advice import Advice
    from advisor.render.evidence import Evidence

SHOWN_FLIPS = 5
DECISIVE = 3
PROJECT_DIR = "my-service"
# "points" is the report's own unit: explained like a guide term, at its first use.
POINTS = guide.Term("point", "each rule that applies adds or takes 1 to 3 points per option", "")
Terms = tuple[guide.Term, ...]
LICENCE_SOURCE = "https://github.com/crossbario/crossbar/blob/master/LICENSE"
# The choice a decision record frames before its first item: its terms are explained there.
CHOICE = (
    "The team must choose between Celery (a distributed task queue), Crossbar.io (a WAMP router for routed "
    "RPC and PubSub, browsers included), a hybrid of both, or neither yet (one process: the web "
    "framework's own background tasks, cron, and its own push)."
)


# Frozen records without a generated __repr__ or __eq__, which the start-up path would pay
# for (advisor.records): built once per report, then only read.
@dataclass(frozen=True, repr=False, eq=False)
class Requirement(Record):
    label: str  # R1, R2 ...: the fit table's column
    rule: str
    title: str
    excludes: tuple[str, ...]
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class FitRow(Record):
    option: str
    name: str
    score: int
    eligible: bool
    meets: tuple[bool, ...]  # one per requirement, in the requirements' order
    fails: tuple[str, ...]  # the labels of the requirements it fails


@dataclass(frozen=True, repr=False, eq=False)
class Reason(Record):
    rule: str
    text: str  # the rule's title
    points: str  # "3 points for Hybrid over Celery"
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class Said(Record):
    """A line of text and the terms it uses."""

    text: str
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class Caveat(Record):
    rule: str
    severity: str
    title: str
    because: str
    sources: tuple[str, ...]
    terms: Terms
    # The because-text's first sentence and the terms it and the title use: the terminal's
    # first screen shows only that, and tells the whole text in the details.
    gist: str
    gist_terms: Terms
    measured: str = ""  # as Detail.measured

    @property
    def told_in_gist(self) -> bool:
        return self.gist == self.because


@dataclass(frozen=True, repr=False, eq=False)
class FlipLine(Record):
    question: str
    prompt: str
    answer: str
    now: str
    name: str
    still_fails: str  # "" or " (which would still fail ...)"
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class Cost(Record):
    option: str
    name: str
    services: str
    processes: str
    deploy: str
    secure: str
    monitor: str
    upgrade: str
    sources: tuple[str, ...]
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class Stage(Record):
    title: str
    text: str
    sources: tuple[str, ...]
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class Step(Record):
    text: str
    commands: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    terms: Terms = ()


@dataclass(frozen=True, repr=False, eq=False)
class Detail(Record):
    """A fired rule told in full, once: title, what it does, because, sources."""

    rule: str
    title: str
    effect: str  # "celery +2, hybrid +2", "rules out celery" or the caveat's severity
    because: str
    sources: tuple[str, ...]
    terms: Terms
    measured: str = ""  # "measured: see Measured on your machine (round-trip)" with --evidence


@dataclass(frozen=True, repr=False, eq=False)
class PointsRow(Record):
    rule: str
    title: str
    points: tuple[int, ...]  # per option, in OPTIONS order (0: not moved)
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class Answer(Record):
    question: str
    prompt: str
    value: str
    given: bool
    terms: Terms


@dataclass(frozen=True, repr=False, eq=False)
class View(Record):
    """Everything a report shows, in reading order: built once, then only laid out and escaped."""

    # the screen that decides
    verdict: str
    verdict_name: str
    chosen: str
    chosen_name: str
    confidence: str
    standing: str
    standing_terms: Terms  # "point" among them: the report's own unit, explained where it is first used
    requirements: tuple[Requirement, ...]
    fit: tuple[FitRow, ...]
    fit_note: str
    reasons: tuple[Reason, ...]
    reasons_note: str
    caveats: tuple[Caveat, ...]
    # then
    fragile: str
    flips: tuple[FlipLine, ...]
    more_flips: int
    costs: tuple[Cost, ...]
    stages: tuple[Stage, ...]
    steps: tuple[Step, ...]
    # the details
    why: tuple[Detail, ...]
    needs: tuple[Detail, ...]
    notes: tuple[Caveat, ...]
    points: tuple[PointsRow, ...]
    totals: tuple[int, ...]  # per option, in OPTIONS order
    good: tuple[Said, ...]
    bad: tuple[Said, ...]
    diagram_mermaid: str
    diagram_svg: dict[str, Any]
    diagram_lines: tuple[str, ...]
    answers: tuple[Answer, ...]
    # about the report
    choice: Said  # the options, as the decision record frames them
    names: tuple[str, ...]  # option names in OPTIONS order (the points table's columns)
    options: tuple[str, ...]
    fired_count: int
    rule_count: int
    version: str
    date: str
    project: str | None
    status: str
    answers_file: str  # what the next steps name
    record_answers_file: str  # what the decision record names: in a project, its own answers
    measured: Evidence | None = None  # recommend --evidence: what advisor bench measured

    @property
    def given(self) -> tuple[Answer, ...]:
        return tuple(answer for answer in self.answers if answer.given)


class FirstUse:
    """Which of an item's terms are new where a format shows it.

    Each format walks its items in its own reading order with a fresh one, so a term is
    explained once, right after the first item that uses it (the ADR's order is its own).
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, terms: Terms) -> Terms:
        fresh = []
        for term in terms:
            if term.term not in self.seen:
                self.seen.add(term.term)
                fresh.append(term)
        return tuple(fresh)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def build(
    advice: Advice,
    chosen: str | None = None,
    date: str | None = None,
    record: DecisionRecord | None = None,
    dated: bool = True,
    evidence: Evidence | None = None,
) -> View:
    """The view of `advice`; `chosen` is the stack a starter was made for (default: the verdict).

    `dated=False` for the terminal, which shows no date: SOURCE_DATE_EPOCH is then not read.
    """
    record = record or DecisionRecord()
    verdict = advice.verdict
    chosen = chosen or verdict.recommendation
    the_guide = guide.load_guide()
    find_terms = guide.TermFinder((POINTS, *the_guide.terms))
    answers_file = record.answers_file or "answers.yml"
    system = diagram.build(advice.answers, chosen)
    said = standing(verdict)
    requirements = _requirements(verdict, find_terms)
    reasons = tuple(Reason(rule.id, rule.title, points, find_terms(rule.title)) for rule, points in decisive(verdict))
    caveats = tuple(_caveat(rule, find_terms, evidence) for rule in verdict.caveats if rule.severity != "note")
    return View(
        verdict=verdict.recommendation,
        verdict_name=NAMES[verdict.recommendation],
        chosen=chosen,
        chosen_name=NAMES[chosen],
        confidence=verdict.confidence,
        standing=said,
        standing_terms=find_terms(said),
        requirements=requirements,
        fit=fit_rows(verdict, requirements),
        fit_note=fit_note(verdict),
        reasons=reasons,
        reasons_note=reasons_note(verdict),
        caveats=caveats,
        fragile=fragile_note(verdict, advice.flips),
        flips=_flip_lines(advice, find_terms),
        more_flips=len(advice.flips) - flips_shown(verdict, advice.flips),
        costs=_costs(the_guide, advice, find_terms),
        stages=tuple(
            Stage(s.title, s.text, s.sources, find_terms(s.title, s.text))
            for s in the_guide.stages(chosen, advice.answers)
        ),
        steps=tuple(
            Step(s.text, s.commands, s.sources, find_terms(s.text))
            for s in next_steps(verdict, chosen, answers_file, measured=evidence is not None)
        ),
        why=tuple(_detail(rule, _effects(rule), find_terms, evidence) for rule in verdict.fired),
        needs=tuple(
            _detail(rule, "rules out " + ", ".join(rule.excludes), find_terms, evidence)
            for rule in verdict.requirements
        ),
        notes=tuple(_caveat(rule, find_terms, evidence) for rule in verdict.caveats if rule.severity == "note"),
        points=tuple(
            PointsRow(r.id, r.title, tuple(r.effects.get(o, 0) for o in OPTIONS), find_terms(r.title))
            for r in verdict.fired
        ),
        totals=tuple(verdict.scores[option] for option in OPTIONS),
        good=tuple(Said(r.title, find_terms(r.title)) for r in engine.moved(verdict, chosen) if r.effects[chosen] > 0),
        bad=tuple(Said(r.title, find_terms(r.title)) for r in engine.moved(verdict, chosen) if r.effects[chosen] < 0),
        diagram_mermaid=diagram.mermaid(system),
        diagram_svg=diagram.layout(system),
        diagram_lines=tuple(diagram.text_lines(system)),
        answers=_answers(advice, find_terms),
        choice=Said(CHOICE, find_terms(CHOICE)),
        names=tuple(NAMES[option] for option in OPTIONS),
        options=OPTIONS,
        fired_count=len(verdict.fired) + len(verdict.requirements) + len(verdict.caveats),
        rule_count=len(advice.ruleset.rules),
        version=__version__,
        date=report_date(date) if dated else "",
        project=record.project,
        status=record.status,
        answers_file=answers_file,
        record_answers_file=record.answers_file or ".advisor-answers.yml",
        measured=evidence,
    )


def standing(verdict: engine.Verdict) -> str:
    """What the confidence means for this verdict, with what the next level up would need."""
    chosen = NAMES[verdict.recommendation]
    runner = NAMES[verdict.runner_up] if verdict.runner_up else ""
    score = plural(verdict.scores[verdict.recommendation], "point")
    if not verdict.meets_requirements:
        why = f"no option meets every requirement, and {chosen} is the closest, with {score}"
    elif verdict.tie:
        why = f"{chosen} and {runner} tie at {plural(verdict.scores[verdict.recommendation], 'point')}"
    elif verdict.runner_up is None:
        why = f"{chosen} is the only option that meets every requirement, with {score}"
    else:
        why = f"{chosen} leads {runner} by {plural(verdict.margin, 'point')}"
    if verdict.meets_requirements and verdict.scores[verdict.recommendation] < 0:
        why += ", though the rules score it below zero: what you need fits it poorly"
    if verdict.blocking:
        why += "; a blocking caveat keeps it below high"
    bands = (
        f"high needs a lead of {engine.HIGH_MARGIN} with every requirement met and no blocking caveat, "
        f"medium a lead of {engine.MEDIUM_MARGIN}"
    )
    return f"Confidence {verdict.confidence}: {why}. {bands[0].upper()}{bands[1:]}."


def _requirements(verdict: engine.Verdict, find_terms: guide.TermFinder) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(f"R{number}", rule.id, rule.title, rule.excludes, find_terms(rule.title))
        for number, rule in enumerate(verdict.requirements, start=1)
    )


def fit_rows(verdict: engine.Verdict, requirements: tuple[Requirement, ...]) -> tuple[FitRow, ...]:
    """Each option, best first, against each stated requirement."""
    rows = []
    for option in verdict.ranked():
        meets = tuple(option not in need.excludes for need in requirements)
        fails = tuple(need.label for need, met in zip(requirements, meets, strict=True) if not met)
        rows.append(FitRow(option, NAMES[option], verdict.scores[option], not fails, meets, fails))
    return tuple(rows)


def fit_note(verdict: engine.Verdict) -> str:
    if not verdict.requirements:
        return "You stated no requirement that rules an option out: every option is eligible, and the score decides."
    eligible = [NAMES[option] for option in verdict.ranked() if not verdict.unmet[option]]
    if not eligible:
        return "No option meets every requirement: the verdict is the closest one."
    return f"Eligible (meets every requirement): {', '.join(eligible)}."


def decisive(verdict: engine.Verdict) -> list[tuple[Rule, str]]:
    """The fired rules that separate the verdict from the runner-up most, each with what it is worth.

    Not simply the heaviest rules: a rule giving both options 3 points decides nothing.
    """
    winner, other = verdict.recommendation, verdict.runner_up
    if other is None or verdict.tie:
        return []
    gaps = [(rule.effects.get(winner, 0) - rule.effects.get(other, 0), rule) for rule in verdict.fired]
    ranked = sorted((gap for gap in gaps if gap[0] > 0), key=lambda gap: (-gap[0], gap[1].id))
    return [(rule, _worth(winner, other, gap)) for gap, rule in ranked[:DECISIVE]]


def _worth(winner: str, other: str, gap: int) -> str:
    """How far a rule moves the verdict ahead, in words: "3 points for Hybrid over Celery"."""
    return f"{plural(gap, 'point')} for {short_name(winner)} over {short_name(other)}"


def short_name(option: str) -> str:
    """An option's name without its gloss: "Hybrid" for "Hybrid (Celery + Crossbar.io)"."""
    return NAMES[option].split(" (", 1)[0]


def reasons_note(verdict: engine.Verdict) -> str:
    """What decides when the points between the top two do not: a tie, or requirements."""
    chosen = NAMES[verdict.recommendation]
    if verdict.tie and verdict.runner_up:
        simpler = min(verdict.recommendation, verdict.runner_up, key=SIMPLER_FIRST.index)
        return (
            f"{chosen} and {NAMES[verdict.runner_up]} tie, so no rule separates them: "
            f"the tie goes to the simpler stack, {NAMES[simpler]}."
        )
    if verdict.runner_up is None:
        if verdict.meets_requirements:
            return f"The requirements decide: they rule out every option but {chosen}."
        return f"The requirements decide: no option meets them all, and {chosen} fails the fewest."
    if not verdict.meets_requirements:
        return (
            f"No option meets every requirement; {chosen} and {NAMES[verdict.runner_up]} fail as many, "
            "and these rules put it ahead:"
        )
    return f"What puts {chosen} ahead of {NAMES[verdict.runner_up]}, the closest option:"


def _caveat(rule: Rule, find_terms: guide.TermFinder, evidence: Evidence | None = None) -> Caveat:
    gist = first_sentence(rule.because)
    terms, gist_terms = find_terms(rule.title, rule.because), find_terms(rule.title, gist)
    measured = evidence.note_for(rule.id) if evidence else ""
    return Caveat(rule.id, rule.severity, rule.title, rule.because, rule.sources, terms, gist, gist_terms, measured)


# A sentence ends at ".", "!" or "?" (and a closing quote) before a space and a capital or a quote.
_SENTENCE_END = re.compile(r"[.!?][\"']?(?=\s+[A-Z\"])")


def first_sentence(text: str) -> str:
    """The first sentence of `text` (all of it when it is one sentence)."""
    text = " ".join(text.split())
    end = _SENTENCE_END.search(text)
    return text[: end.end()] if end else text


def is_fragile(verdict: engine.Verdict) -> bool:
    """Near a tie, any of several small changes moves it: say so instead of listing them all."""
    return verdict.tie or (verdict.runner_up is not None and verdict.margin < engine.MEDIUM_MARGIN)


def flips_shown(verdict: engine.Verdict, flips: tuple[Any, ...]) -> int:
    """How many flips a human-facing report lists (JSON lists them all)."""
    return min(len(flips), 3 if is_fragile(verdict) else SHOWN_FLIPS)


def fragile_note(verdict: engine.Verdict, flips: tuple[Any, ...]) -> str:
    if not is_fragile(verdict) or not flips:
        return ""
    return (
        f"This verdict is fragile: {plural(len(flips), 'single answer')} would change it. "
        "Treat it as a close call and weigh the options with your team."
    )


def _flip_lines(advice: Advice, find_terms: guide.TermFinder) -> tuple[FlipLine, ...]:
    bank = advice.ruleset.questions.questions
    shown = advice.flips[: flips_shown(advice.verdict, advice.flips)]
    return tuple(
        FlipLine(
            flip.question,
            bank[flip.question].prompt,
            as_text(flip.answer),
            as_text(advice.answers[flip.question]),
            NAMES[flip.recommendation],
            f" (which would still fail {', '.join(flip.unmet)})" if flip.unmet else "",
            find_terms(bank[flip.question].prompt),
        )
        for flip in shown
    )


def _costs(the_guide: guide.Guide, advice: Advice, find_terms: guide.TermFinder) -> tuple[Cost, ...]:
    """What each option asks of the team to run, fitted to the answers, the verdict first."""
    rows = []
    for option in advice.verdict.ranked():
        cost = the_guide.cost(option, advice.answers)
        services, processes = ("; ".join(items) or "none" for items in (cost.services, cost.processes))
        texts = (services, processes, cost.deploy, cost.secure, cost.monitor, cost.upgrade)
        rows.append(Cost(option, NAMES[option], *texts, cost.sources, find_terms(*texts)))
    return tuple(rows)


def next_steps(verdict: engine.Verdict, chosen: str, answers_file: str, measured: bool = False) -> list[Step]:
    """What to do next, fitted to the verdict, how sure it is and whether the engines were measured."""
    answers = shlex.quote(answers_file)
    steps = []
    if chosen in ("crossbar", "hybrid"):
        steps.append(
            Step(
                "Have the Crossbar.io router's EUPL-1.2 licence reviewed by whoever approves your licences "
                "before you depend on it.",
                sources=(LICENCE_SOURCE,),
            )
        )
    if verdict.confidence != "high" and verdict.runner_up is not None:
        steps.append(_proof_of_concept(verdict, answers))
    if chosen != "neither" and not measured:
        steps.append(_bench_step(answers))
    if chosen == "neither":
        steps.append(
            Step(
                "Nothing to scaffold: keep the work in your web application, its own background tasks and cron. "
                'Run the advisor again when one of the answers under "What would change it" changes:',
                (f"advisor recommend --answers {answers}",),
            )
        )
        return steps
    steps.append(
        Step(
            "Generate the starter for this verdict, with these answers saved inside it:",
            (f"advisor new {PROJECT_DIR} --answers {answers}",),
        )
    )
    steps.append(
        Step(
            "Later, check whether the decision still holds under newer rules or changed answers:",
            (f"advisor check {PROJECT_DIR}",),
        )
    )
    return steps


def _bench_step(answers: str) -> Step:
    """Both engines measured on the team's own machine, then the report again with the figures beside the rules."""
    return Step(
        "See Celery and Crossbar.io measured side by side on your own machine (round trip, throughput, fan-out, "
        "an absent and a crashed consumer, schedules; under a minute with --quick), then this report with "
        "the figures beside the rules they support:",
        (
            "advisor bench --quick --format json --output bench.json",
            f"advisor recommend --answers {answers} --evidence bench.json",
        ),
    )


def _proof_of_concept(verdict: engine.Verdict, answers: str) -> Step:
    pair = (verdict.recommendation, verdict.runner_up or verdict.recommendation)
    names = f"{NAMES[pair[0]]} and {NAMES[pair[1]]}"
    if "neither" in pair:
        # No starter for "neither": its proof of concept is the work run in the web application.
        other = pair[0] if pair[1] == "neither" else pair[1]
        start = (
            f"Confidence is {verdict.confidence}: the two closest options are {names}. Try the work that "
            f"matters to you in your web application as it is first; if it falls short, {NAMES[other]} is next"
        )
        if verdict.recommendation == "neither":
            return Step(start + ".")
        return Step(
            start + ": build a small proof of concept of it.",
            (f"advisor new poc-{other} --stack {other} --answers {answers}",),
        )
    commands = tuple(f"advisor new poc-{option} --stack {option} --answers {answers}" for option in pair)
    return Step(
        f"Confidence is {verdict.confidence}: build a small proof of concept of the two closest options, "
        f"{names}, and measure the work that matters to you:",
        commands,
    )


def _effects(rule: Rule) -> str:
    return ", ".join(f"{option} {points:+d}" for option, points in rule.effects.items())


def _detail(rule: Rule, effect: str, find_terms: guide.TermFinder, evidence: Evidence | None) -> Detail:
    measured = evidence.note_for(rule.id) if evidence else ""
    return Detail(
        rule.id, rule.title, effect, rule.because, rule.sources, find_terms(rule.title, rule.because), measured
    )


def _answers(advice: Advice, find_terms: guide.TermFinder) -> tuple[Answer, ...]:
    bank = advice.ruleset.questions.questions
    given = advice.given
    return tuple(
        Answer(
            qid,
            question.prompt,
            as_text(advice.answers[qid]),
            qid in given if given is not None else advice.answers[qid] != question.default,
            find_terms(question.prompt),
        )
        for qid, question in bank.items()
    )


def report_date(date: str | None = None) -> str:
    """The given date, else SOURCE_DATE_EPOCH's, else today (UTC)."""
    if date:
        return dt.date.fromisoformat(date).isoformat()
    epoch = source_date_epoch()
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None else dt.datetime.now(dt.UTC)
    return moment.date().isoformat()


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as seconds since 1970, or None when unset or empty.

    The reproducible-builds convention (https://reproducible-builds.org/specs/source-date-epoch/)
    is a decimal integer; anything else is the user's input error, named as such.
    """
    text = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not text:
        return None
    try:
        epoch = int(text) if text.isascii() and text.isdigit() else -1
        dt.datetime.fromtimestamp(epoch, dt.UTC)
    except (OverflowError, OSError, ValueError):
        epoch = -1
    if epoch < 0:
        raise InputError(
            f"environment variable SOURCE_DATE_EPOCH={text!r} is not a date: "
            "expected whole seconds since 1970-01-01 UTC, e.g. 1767225600"
        )
    return epoch
