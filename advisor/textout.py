"""The plain-text verdict for an 80-column terminal: verdict, reasons, flips, caveats.

Kept free of Jinja so that `advisor recommend` starts fast; the richer report formats
live in report.py.
"""

from __future__ import annotations

import textwrap
from typing import Any

from advisor.advice import Advice
from advisor.rules import OPTIONS, Rule

WIDTH = 80
TOP_REASONS = 6
NAMES = {"celery": "Celery", "crossbar": "Crossbar.io", "hybrid": "Hybrid (Celery + Crossbar.io)"}


def render(advice: Advice) -> str:
    verdict = advice.verdict
    lines = [
        f"Verdict: {NAMES[verdict.recommendation]}",
        f"Confidence: {verdict.confidence} (leads {NAMES[verdict.runner_up]} by {verdict.margin} points)",
        "Scores: " + ", ".join(f"{option} {verdict.scores[option]}" for option in _by_score(verdict.scores)),
        "",
    ]
    lines += _reasons(verdict.fired)
    lines += _flips(advice)
    lines += _caveats(verdict.caveats)
    return "\n".join(lines).rstrip() + "\n"


def _by_score(scores: dict[str, int]) -> list[str]:
    return sorted(OPTIONS, key=lambda option: (-scores[option], OPTIONS.index(option)))


def _wrap(text: str, indent: str, later: str | None = None) -> list[str]:
    words = " ".join(text.split())
    wrapped = textwrap.wrap(words, WIDTH, initial_indent=indent, subsequent_indent=later or indent,
                            break_on_hyphens=False)
    return wrapped or [indent]


def _effects(rule: Rule) -> str:
    return ", ".join(f"{option} {points:+d}" for option, points in rule.effects.items())


def _reasons(fired: tuple[Rule, ...]) -> list[str]:
    if not fired:
        return ["No rule fired: every answer is at its default or neutral.", ""]
    lines = ["Top reasons:"]
    for number, rule in enumerate(fired[:TOP_REASONS], start=1):
        lines += _wrap(f"{number}. {rule.title} [{_effects(rule)}]", "  ", "     ")
        lines += _wrap(rule.because, "     ")
        lines += _source(rule, "     ")
    if len(fired) > TOP_REASONS:
        lines.append(f"  ... and {len(fired) - TOP_REASONS} more (see --format json or markdown)")
    return [*lines, ""]


def _source(rule: Rule, indent: str) -> list[str]:
    # A URL cannot be wrapped, so it gets a line of its own.
    return [f"{indent}rule {rule.id}, source:", f"{indent}{rule.sources[0]}"]


def _answer(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _flips(advice: Advice) -> list[str]:
    if not advice.flips:
        return ["What would change it: no single answer changes this verdict.", ""]
    lines = ["What would change it:"]
    for flip in advice.flips:
        was = _answer(advice.answers[flip.question])
        lines += _wrap(f"- {flip.question}: {_answer(flip.answer)} (now {was}) -> {NAMES[flip.recommendation]}", "  ")
    return [*lines, ""]


def _caveats(caveats: tuple[Rule, ...]) -> list[str]:
    if not caveats:
        return []
    # Titles only: the terminal verdict stays short; `rules show ID` and the reports say more.
    lines = ["Watch out for (details: advisor rules show ID):"]
    for rule in caveats:
        lines += _wrap(f"! {rule.title} ({rule.id})", "  ", "    ")
    return [*lines, ""]
