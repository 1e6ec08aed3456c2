"""The plain-text report for an 80-column terminal.

Kept free of Jinja so that `advisor recommend` starts fast. Colour (bold headings, a
green verdict) only when the caller says the terminal wants it: never under NO_COLOR,
TERM=dumb or a pipe. Control characters in data are shown escaped, never sent to the
terminal.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from typing import Any

from advisor import diagram, engine, explain
from advisor.advice import Advice
from advisor.answers import as_text
from advisor.rules import OPTION_NAMES as NAMES
from advisor.rules import Rule

WIDTH = 80
TOP_REASONS = 6
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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


def render(advice: Advice, color: bool = False, answers_file: str = "answers.yml") -> str:
    style = Style(color)
    verdict = advice.verdict
    lines = [style.verdict(f"Verdict: {NAMES[verdict.recommendation]}"), *_wrap(explain.standing(verdict), ""), ""]
    sections = [
        _fit(advice),
        _scores(advice),
        _reasons(verdict.fired),
        _flips(advice),
        _caveats(verdict.caveats),
        _consequences(advice),
        _architecture(advice),
        _breakdown(advice),
        _answers(advice),
        _next_steps(verdict.recommendation, answers_file),
    ]
    for title, body in sections:
        lines += [style.heading(title), *body, ""]
    return "\n".join(lines).rstrip() + "\n"


def _fit(advice: Advice) -> tuple[str, list[str]]:
    verdict = advice.verdict
    if not verdict.requirements:
        return "Requirements:", ["  None stated: every option is eligible."]
    lines = [line for rule in verdict.requirements for line in _wrap(f"* {rule.title} ({rule.id})", "  ", "    ")]
    for row in explain.fit_rows(verdict):
        status = "meets every requirement" if row["eligible"] else "fails " + ", ".join(row["unmet"])
        lines += _wrap(f"{row['name']}: {status}", "  ", "    ")
    return "Requirements (what you said you need):", lines


def _scores(advice: Advice) -> tuple[str, list[str]]:
    scores = advice.verdict.scores
    top = max(max(scores.values()), 1)
    rows = []
    for option in advice.verdict.ranked():
        bar = "#" * round(40 * scores[option] / top) if scores[option] > 0 else ""
        rows.append(f"  {NAMES[option]:<30} {scores[option]:>4}  {bar}")
    return "Scores:", rows


def _effects(rule: Rule) -> str:
    return ", ".join(f"{option} {points:+d}" for option, points in rule.effects.items())


def _source(rule: Rule, indent: str) -> list[str]:
    # A URL cannot be wrapped, so it gets a line of its own.
    return [f"{indent}rule {rule.id}, source:", f"{indent}{clean(rule.sources[0])}"]


def _reasons(fired: tuple[Rule, ...]) -> tuple[str, list[str]]:
    if not fired:
        return "Top reasons:", ["  No rule fired: every answer is at its default or neutral."]
    lines = []
    for number, rule in enumerate(fired[:TOP_REASONS], start=1):
        lines += _wrap(f"{number}. {rule.title} [{_effects(rule)}]", "  ", "     ")
        lines += _wrap(rule.because, "     ")
        lines += _source(rule, "     ")
    if len(fired) > TOP_REASONS:
        lines.append(f"  ... and {len(fired) - TOP_REASONS} more: see the breakdown below")
    return "Top reasons:", lines


def _answer(value: Any) -> str:
    return clean(as_text(value))


def _flips(advice: Advice) -> tuple[str, list[str]]:
    if not advice.flips:
        return "What would change it:", ["  No single answer changes this verdict."]
    lines = (
        _wrap(explain.fragile_note(advice.verdict, advice.flips), "  ") if explain.is_fragile(advice.verdict) else []
    )
    shown = explain.flips_shown(advice.verdict, advice.flips)
    for line in explain.flip_lines(advice.answers, advice.flips)[:shown]:
        change = f"- {line.question}: {clean(line.answer)} (now {clean(line.now)}) -> {line.name}"
        lines += _wrap(change + explain.flip_suffix(line), "  ", "    ")
    if len(advice.flips) > shown:
        lines.append(f"  ... and {len(advice.flips) - shown} more (all of them: --format json)")
    return "What would change it:", lines


def _caveats(caveats: tuple[Rule, ...]) -> tuple[str, list[str]]:
    if not caveats:
        return "Watch out for:", ["  No caveat applies to this verdict."]
    lines = []
    for rule in caveats:
        lines += _wrap(f"! [{rule.severity}] {rule.title} ({rule.id})", "  ", "    ")
    return "Watch out for (details: advisor rules show ID):", lines


def _consequences(advice: Advice) -> tuple[str, list[str]]:
    chosen = advice.verdict.recommendation
    moved = engine.moved(advice.verdict, chosen)
    good = [rule for rule in moved if rule.effects[chosen] > 0]
    bad = [rule for rule in moved if rule.effects[chosen] < 0]
    lines = [line for rule in good for line in _wrap(f"+ {rule.title}", "  ", "    ")]
    lines += [line for rule in bad for line in _wrap(f"- {rule.title}", "  ", "    ")]
    return f"Consequences of choosing {NAMES[chosen]}:", lines or ["  None recorded by the rules."]


def _architecture(advice: Advice) -> tuple[str, list[str]]:
    system = diagram.build(advice.answers, advice.verdict.recommendation)
    return "Architecture:", [line for row in diagram.text_lines(system) for line in _wrap(row, "  ", "    ")]


def _breakdown(advice: Advice) -> tuple[str, list[str]]:
    lines = []
    for option in advice.verdict.ranked():
        moved = engine.moved(advice.verdict, option)
        parts = ", ".join(f"{rule.id}:{rule.effects[option]:+d}" for rule in moved) or "no rule"
        lines += _wrap(f"{NAMES[option]} {advice.verdict.scores[option]}: {parts}", "  ", "    ")
    return "Per-option breakdown (rule and points):", lines


def _answers(advice: Advice) -> tuple[str, list[str]]:
    bank = advice.ruleset.questions.questions
    lines = []
    for qid, value in advice.answers.items():
        mark = "default" if value == bank[qid].default else "answered"
        lines.append(f"  {qid:<18} {_answer(value):<12} ({mark})")
    return "Answers:", lines


def _next_steps(chosen: str, answers_file: str) -> tuple[str, list[str]]:
    # The wizard passes the file it kept, recommend the one it was given, so these commands
    # work as printed (quoted for a POSIX shell).
    answers_file = shlex.quote(answers_file)
    report = f"  advisor recommend --answers {answers_file} --format html --output report.html"
    if chosen == "neither":
        return "Next steps:", [
            "  Nothing to scaffold: keep the work in your web app, its background tasks and",
            "  cron; the flips above say which answer would make Celery or Crossbar.io worth it.",
            f"  advisor new my-service --answers {answers_file} --stack celery   (a starter anyway)",
            report,
        ]
    return "Next steps:", [
        f"  advisor new my-service --answers {answers_file}   (the starter for this verdict)",
        report,
    ]


def summary(advice: Advice, color: bool = False) -> str:
    """The short verdict the wizard shows: scores, top reasons, flips and caveats."""
    style = Style(color)
    verdict = advice.verdict
    lines = [style.verdict(f"Verdict: {NAMES[verdict.recommendation]}"), *_wrap(explain.standing(verdict), ""), ""]
    reasons = [line for rule in verdict.fired[:3] for line in _wrap(f"- {rule.title} ({rule.id})", "  ", "    ")]
    sections = (_fit(advice), _scores(advice), ("Top reasons:", reasons), _flips(advice), _caveats(verdict.caveats))
    for title, body in sections:
        lines += [style.heading(title), *body, ""]
    return "\n".join(lines).rstrip() + "\n"
