"""What a verdict means, in words every report format shares (text, Markdown, HTML, ADR).

Computed once here so the formats cannot disagree: how sure the verdict is and why, which
options meet the stated requirements, which flips to show (at most five; a verdict near a
tie is called fragile rather than listed change by change), and the caveats by severity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.answers import as_text
from advisor.engine import MEDIUM_MARGIN, Verdict
from advisor.flips import Flip
from advisor.records import Record
from advisor.rules import OPTION_NAMES as NAMES
from advisor.rules import OPTIONS, SIMPLER_FIRST

SHOWN_FLIPS = 5


@dataclass(frozen=True, repr=False)
class FlipLine(Record):
    """One flip as a sentence part: the change, and the verdict it leads to."""

    question: str
    answer: str
    now: str
    recommendation: str
    name: str
    unmet: tuple[str, ...]


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def standing(verdict: Verdict) -> str:
    """The confidence with its reason, in one sentence."""
    chosen = NAMES[verdict.recommendation]
    if not verdict.meets_requirements:
        failed = ", ".join(verdict.unmet[verdict.recommendation])
        return f"No option meets every requirement: {chosen} is the closest, and it fails {failed}. Confidence: low."
    if verdict.tie and verdict.runner_up:
        simpler = min(verdict.recommendation, verdict.runner_up, key=SIMPLER_FIRST.index)
        return (
            f"A tie: {chosen} and {NAMES[verdict.runner_up]} both score {verdict.scores[verdict.recommendation]}; "
            f"it goes to the simpler stack, {NAMES[simpler]}. Confidence: low."
        )
    if verdict.runner_up is None:
        lead = "it is the only option that meets every requirement"
    else:
        lead = f"it leads {NAMES[verdict.runner_up]} by {plural(verdict.margin, 'point')}"
    if verdict.scores[verdict.recommendation] < 0:
        lead += ", though the rules score it below zero: what you need fits it poorly"
    blocked = "; a blocking caveat keeps it below high" if verdict.blocking else ""
    return f"Confidence: {verdict.confidence} ({lead}{blocked})."


def fit_rows(verdict: Verdict) -> list[dict[str, Any]]:
    """Each option against the stated requirements: eligible or not, and what it fails."""
    return [
        {
            "id": option,
            "name": NAMES[option],
            "score": verdict.scores[option],
            "eligible": not verdict.unmet[option],
            "unmet": list(verdict.unmet[option]),
        }
        for option in OPTIONS
    ]


def is_fragile(verdict: Verdict) -> bool:
    """Near a tie, any of several small changes moves it: say so instead of listing them all."""
    return verdict.tie or (verdict.runner_up is not None and verdict.margin < MEDIUM_MARGIN)


def flip_lines(answers: dict[str, Any], flips: tuple[Flip, ...]) -> list[FlipLine]:
    return [
        FlipLine(
            flip.question,
            as_text(flip.answer),
            as_text(answers[flip.question]),
            flip.recommendation,
            NAMES[flip.recommendation],
            flip.unmet,
        )
        for flip in flips
    ]


def flips_shown(verdict: Verdict, flips: tuple[Flip, ...]) -> int:
    """How many flips a human-facing report lists (JSON lists them all)."""
    return min(len(flips), 3 if is_fragile(verdict) else SHOWN_FLIPS)


def fragile_note(verdict: Verdict, flips: tuple[Flip, ...]) -> str:
    if not is_fragile(verdict) or not flips:
        return ""
    return (
        f"This verdict is fragile: {plural(len(flips), 'single answer')} would change it. "
        "Treat it as a close call and weigh the options below with your team."
    )


def flip_suffix(line: FlipLine) -> str:
    """What a flip's outcome would still fail, when the change leaves no option meeting every need."""
    return f" (which would still fail {', '.join(line.unmet)})" if line.unmet else ""
