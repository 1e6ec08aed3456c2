"""The plain-text report for an 80-column terminal, laid out from the view model.

Kept free of Jinja so that `advisor recommend` starts fast. Colour (bold headings, a
green verdict) only when the caller says the terminal wants it: never under NO_COLOR,
TERM=dumb or a pipe. Control characters in data are shown escaped, never sent to the
terminal.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any

from advisor.render.view import Caveat, Detail, FirstUse, Terms, View

if TYPE_CHECKING:
    from advisor.advice import Advice

WIDTH = 80
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
Section = tuple[str, list[str]]


class Style:
    """ANSI styling that collapses to plain text when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def heading(self, text: str) -> str:
        return self._wrap("1", text)

    def verdict(self, text: str) -> str:
        return self._wrap("1;32", text)


def clean(text: Any) -> str:
    """Data as the terminal should show it: control characters escaped, never interpreted."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def _wrap(text: str, indent: str, later: str | None = None) -> list[str]:
    words = " ".join(clean(text).split())
    wrapped = textwrap.wrap(
        words, WIDTH, initial_indent=indent, subsequent_indent=later or indent, break_on_hyphens=False
    )
    return wrapped or [indent]


def _item(text: str, mark: str = "-") -> list[str]:
    """A wrapped list item: `  - text`, its later lines under the text."""
    return _wrap(f"{mark} {text}", "  ", " " * (3 + len(mark)))


def _terms(seen: FirstUse, terms: Terms, indent: str = "    ") -> list[str]:
    """The terms first used by the item above, explained on a wrapped line under its text."""
    fresh = seen(terms)
    if not fresh:
        return []
    return _wrap("Terms: " + " ".join(f"{term.term}: {term.meaning}." for term in fresh), indent, indent + "  ")


def render(view: View, color: bool = False) -> str:
    """The whole report: the screen that decides, what follows from it, then the details."""
    # Sections are laid out in reading order, so each term is explained under its first use.
    seen = FirstUse()
    head = _head(view, seen)
    sections = [*first_screen(view, seen), _flips(view, seen), _costs(view, seen), _stages(view, seen)]
    sections += [_steps(view, seen), _measured(view), _why(view.why, seen), _needs(view.needs, seen)]
    sections += [_caveats_in_full(view.caveats, seen), _notes(view.notes, seen)]
    sections += [_points(view), _consequences(view, seen), _architecture(view), _answers(view, seen)]
    return _join(head, sections, Style(color))


def summary(advice: Advice, color: bool = False) -> str:
    """The screen that decides and the flips: what the wizard shows at its end."""
    from advisor.render import view as view_mod

    view = view_mod.build(advice, dated=False)
    seen = FirstUse()
    head = _head(view, seen)
    # No details follow here, so each caveat is told in full on this screen.
    return _join(head, [*first_screen(view, seen, gist=False), _flips(view, seen)], Style(color))


def _head(view: View, seen: FirstUse) -> Section:
    return view.verdict_name, [*_wrap(view.standing, ""), *_terms(seen, view.standing_terms, "")]


def _join(head: Section, sections: list[Section], style: Style) -> str:
    lines = [style.verdict(f"Verdict: {head[0]}"), *head[1], ""]
    for title, body in sections:
        if body:
            lines += [style.heading(title), *body, ""]
    return "\n".join(lines).rstrip() + "\n"


def first_screen(view: View, seen: FirstUse, gist: bool = True) -> list[Section]:
    return [_fit(view, seen), _reasons(view, seen), _caveats(view.caveats, bool(view.notes), seen, gist)]


def _fit(view: View, seen: FirstUse) -> Section:
    lines = []
    for need in view.requirements:
        lines += _item(f"{need.label}: {need.title} ({need.rule})") + _terms(seen, need.terms)
    labels = "".join(f" {need.label:>5}" for need in view.requirements)
    lines.append(f"  {'option':<30} {'eligible':<8} {'score':>5}{labels}")
    for row in view.fit:
        marks = "".join(f" {'meets' if met else 'fails':>5}" for met in row.meets)
        lines.append(f"  {row.name:<30} {'yes' if row.eligible else 'no':<8} {row.score:>5}{marks}")
    return "Fit against your requirements:", lines + _wrap(view.fit_note, "  ")


def _reasons(view: View, seen: FirstUse) -> Section:
    lines = _wrap(view.reasons_note, "  ") if view.reasons_note else []
    for number, reason in enumerate(view.reasons, start=1):
        lines += _item(f"{reason.text} ({reason.points}; {reason.rule})", f"{number}.") + _terms(
            seen, reason.terms, "     "
        )
    return "Decisive reasons:", lines


def _caveats(caveats: tuple[Caveat, ...], notes: bool, seen: FirstUse, gist: bool) -> Section:
    if not caveats:
        rest = " (the notes are in the details)" if notes else ""
        return "Blocking and important caveats:", [f"  None applies to this verdict{rest}."]
    # The report's first screen stays short: each caveat's title and first sentence; the rest
    # is told once, in the details ("Caveats in full").
    lines = []
    for caveat in caveats:
        because, terms = (caveat.gist, caveat.gist_terms) if gist else (caveat.because, caveat.terms)
        lines += _item(f"[{caveat.severity}] {caveat.title}. {because} ({caveat.rule})", "!")
        lines += _terms(seen, terms)
    if gist and any(not caveat.told_in_gist for caveat in caveats):
        lines.append('  Each in full, with its source, under "Caveats in full" in the details.')
    return "Blocking and important caveats:", lines


def _sources(sources: tuple[str, ...]) -> list[str]:
    # A URL cannot be wrapped, so each gets a line of its own.
    return [f"    {clean(source)}" for source in sources]


def _flips(view: View, seen: FirstUse) -> Section:
    if not view.flips:
        return "What would change it:", ["  No single answer changes this verdict."]
    lines = _wrap(view.fragile, "  ") if view.fragile else []
    for flip in view.flips:
        change = f"{flip.question}: {clean(flip.answer)} (now {clean(flip.now)}) -> {flip.name}{flip.still_fails}"
        lines += _item(f"{change}. ({flip.prompt})") + _terms(seen, flip.terms)
    if view.more_flips > 0:
        lines.append(f"  ... and {view.more_flips} more (all of them: --format json)")
    return "What would change it:", lines


def _costs(view: View, seen: FirstUse) -> Section:
    lines = []
    for cost in view.costs:
        lines.append(f"  {cost.name}")
        for label, text in (
            ("services", cost.services),
            ("processes", cost.processes),
            ("deploy", cost.deploy),
            ("secure", cost.secure),
            ("monitor", cost.monitor),
            ("upgrade", cost.upgrade),
        ):
            lines += _wrap(f"{label}: {text}", "    ", "      ")
        lines += _terms(seen, cost.terms)
    return "Operating cost per option:", lines


def _stages(view: View, seen: FirstUse) -> Section:
    lines = []
    for number, stage in enumerate(view.stages, start=1):
        lines += _item(f"{stage.title}. {stage.text}", f"{number}.") + _terms(seen, stage.terms, "     ")
        lines += _sources(stage.sources)
    return "A staged path:", lines


def _steps(view: View, seen: FirstUse) -> Section:
    lines = []
    for number, step in enumerate(view.steps, start=1):
        lines += _item(step.text, f"{number}.") + _terms(seen, step.terms, "     ")
        lines += _sources(step.sources)
        lines += [f"       {clean(command)}" for command in step.commands]
    return "Next steps:", lines


def _measured(view: View) -> Section:
    """recommend --evidence: each experiment's two outcomes beside the rules of this report it shows."""
    evidence = view.measured
    if evidence is None:
        return "", []
    lines = _wrap(evidence.where, "  ")
    for item in evidence.items:
        lines += _item(f"{item.title} ({item.id}), evidence for {', '.join(item.rules)}:")
        lines += _wrap(f"Celery: {item.celery}", "    ", "      ") + _wrap(f"WAMP: {item.wamp}", "    ", "      ")
    if not evidence.items:
        lines.append("  No experiment in the bench file gives evidence for a rule of this report.")
    return "Measured on your machine:", lines


def _measured_note(measured: str) -> list[str]:
    return _wrap(measured, "    ") if measured else []


def _details(details: tuple[Detail, ...], seen: FirstUse) -> list[str]:
    lines = []
    for detail in details:
        lines += _item(f"{detail.title} [{detail.effect}] ({detail.rule})")
        lines += _wrap(detail.because, "    ") + _terms(seen, detail.terms)
        lines += _sources(detail.sources) + _measured_note(detail.measured)
    return lines


def _why(why: tuple[Detail, ...], seen: FirstUse) -> Section:
    body = _details(why, seen) or ["  No rule moved a score: every answer is at its default or neutral."]
    return "Details: every rule that moved the scores:", body


def _needs(needs: tuple[Detail, ...], seen: FirstUse) -> Section:
    return "The requirements behind the fit table:", _details(needs, seen)


def _caveats_in_full(caveats: tuple[Caveat, ...], seen: FirstUse) -> Section:
    lines = []
    for caveat in caveats:
        if not caveat.told_in_gist:
            lines += _item(f"[{caveat.severity}] {caveat.title} ({caveat.rule})")
            lines += _wrap(caveat.because, "    ") + _terms(seen, caveat.terms) + _sources(caveat.sources[:1])
        if caveat.measured:
            # A caveat told whole on the first screen has no entry above: its note stands alone.
            lines += [] if not caveat.told_in_gist else _item(f"[{caveat.severity}] {caveat.title} ({caveat.rule})")
            lines += _measured_note(caveat.measured)
    return "Caveats in full:", lines


def _notes(notes: tuple[Caveat, ...], seen: FirstUse) -> Section:
    lines = []
    for note in notes:
        lines += _item(f"{note.title}. {note.because} ({note.rule})")
        lines += _terms(seen, note.terms) + _sources(note.sources[:1]) + _measured_note(note.measured)
    return "Notes:", lines


def _points(view: View) -> Section:
    if not view.points:
        return "Points per option:", ["  No rule moved a score."]
    lines = [f"  {'rule':<40}" + "".join(f" {option:>8}" for option in view.options)]
    for row in view.points:
        cells = "".join(f" {points:>+8d}" if points else f" {'.':>8}" for points in row.points)
        lines.append(f"  {clean(row.rule):<40}{cells}")
    lines.append(f"  {'total':<40}" + "".join(f" {total:>8d}" for total in view.totals))
    return "Points per option:", lines


def _consequences(view: View, seen: FirstUse) -> Section:
    lines = []
    for mark, said in [*(("+", good) for good in view.good), *(("-", bad) for bad in view.bad)]:
        lines += _item(said.text, mark) + _terms(seen, said.terms)
    return f"Consequences of choosing {view.chosen_name}:", lines or ["  None recorded by the rules."]


def _architecture(view: View) -> Section:
    return "Architecture:", [line for row in view.diagram_lines for line in _wrap(row, "  ", "    ")]


def _answers(view: View, seen: FirstUse) -> Section:
    lines = []
    for answer in view.answers:
        mark = "answered" if answer.given else "default"
        lines += _wrap(f"{answer.question} = {clean(answer.value)} ({mark}): {answer.prompt}", "  ", "      ")
        lines += _terms(seen, answer.terms, "      ")
    return "Answers:", lines
