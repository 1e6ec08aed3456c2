"""The engine: which rules fire for a set of answers, and the verdict they add up to.

Pure and deterministic: no I/O, no printing. Every score point traces to a firing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advisor.records import Record
from advisor.rules import OPTIONS, Rule, RuleSet

# Score thresholds on the margin between the top two options. One strong factor is worth
# 3 points (docs/factors.md, weights), so a verdict carried by a single strong factor is medium.
HIGH_MARGIN = 6
MEDIUM_MARGIN = 3


@dataclass(frozen=True, repr=False)
class Verdict(Record):
    """The outcome of one evaluation: the recommendation, the scores and the rules behind them."""

    recommendation: str
    confidence: str
    scores: dict[str, int]
    margin: int
    runner_up: str
    fired: tuple[Rule, ...]
    caveats: tuple[Rule, ...]


def firing(ruleset: RuleSet, answers: Mapping[str, Any]) -> list[Rule]:
    """The rules whose conditions hold, in rule order."""
    return [rule for rule in ruleset.rules if rule.when.holds(answers)]


def tally(rules: list[Rule]) -> dict[str, int]:
    scores = dict.fromkeys(OPTIONS, 0)
    for rule in rules:
        for option, points in rule.effects.items():
            scores[option] += points
    return scores


def ranking(scores: Mapping[str, int]) -> list[str]:
    """Options best first; a tie goes to the option listed first in OPTIONS (the simpler stack)."""
    return sorted(OPTIONS, key=lambda option: (-scores[option], OPTIONS.index(option)))


def confidence(margin: int) -> str:
    if margin >= HIGH_MARGIN:
        return "high"
    return "medium" if margin >= MEDIUM_MARGIN else "low"


def decide(ruleset: RuleSet, answers: Mapping[str, Any]) -> Verdict:
    """Evaluate every rule and return the verdict with its reasons, most decisive first."""
    fired = firing(ruleset, answers)
    scores = tally(fired)
    winner, runner_up = ranking(scores)[:2]
    margin = scores[winner] - scores[runner_up]
    scoring = [rule for rule in fired if not rule.is_caveat]
    # Reasons that separate the winner from the runner-up come first.
    scoring.sort(key=lambda rule: (-_lead(rule, winner, runner_up), -abs(rule.effects.get(winner, 0)), rule.id))
    caveats = tuple(sorted((r for r in fired if r.is_caveat and winner in r.applies_to), key=lambda r: r.id))
    return Verdict(winner, confidence(margin), scores, margin, runner_up, tuple(scoring), caveats)


def moved(verdict: Verdict, option: str) -> list[Rule]:
    """The fired rules that moved `option`'s score, biggest contribution first."""
    rules = [rule for rule in verdict.fired if rule.effects.get(option)]
    return sorted(rules, key=lambda rule: (-rule.effects[option], rule.id))


def _lead(rule: Rule, winner: str, runner_up: str) -> int:
    return rule.effects.get(winner, 0) - rule.effects.get(runner_up, 0)
