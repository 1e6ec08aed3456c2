"""The engine: which rules fire for a set of answers, and the verdict they add up to.

Pure and deterministic: no I/O, no printing. Every score point traces to a firing.

A verdict never contradicts a stated need: requirement rules make the options they exclude
ineligible, and the recommendation is the best-scoring eligible option. When no option is
eligible the closest one (fewest unmet requirements, then score) is named, with low
confidence. A tie stays a tie: it is reported, and broken towards the simpler stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from advisor.records import Record
from advisor.rules import OPTIONS, SEVERITIES, SIMPLER_FIRST, Rule, RuleSet

# Score thresholds on the lead over the next eligible option. One strong factor is worth
# 3 points (docs/factors.md, weights), so a verdict carried by a single strong factor is medium.
HIGH_MARGIN = 6
MEDIUM_MARGIN = 3
LEVELS = ("low", "medium", "high")


@dataclass(repr=False, eq=False)
class Verdict(Record):
    """The outcome of one evaluation: the recommendation, the scores and the rules behind them."""

    recommendation: str
    confidence: str
    scores: dict[str, int]
    # The next eligible option (the next closest when none is eligible); None when it is the only one.
    runner_up: str | None
    tie: bool
    unmet: dict[str, tuple[str, ...]]  # option -> ids of the requirements it cannot meet
    requirements: tuple[Rule, ...]
    fired: tuple[Rule, ...]
    caveats: tuple[Rule, ...]

    @property
    def margin(self) -> int:
        """The lead over the runner-up, in points (0 when there is none to lead)."""
        return self.scores[self.recommendation] - self.scores[self.runner_up] if self.runner_up else 0

    @property
    def eligible(self) -> tuple[str, ...]:
        return tuple(option for option in OPTIONS if not self.unmet[option])

    @property
    def meets_requirements(self) -> bool:
        return not self.unmet[self.recommendation]

    def ranked(self) -> list[str]:
        """Every option, the recommendation first: eligible ones by score, then the rest."""
        return ranking(self.scores, self.unmet)

    @property
    def blocking(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.caveats if rule.severity == "blocking")


def firing(ruleset: RuleSet, answers: Mapping[str, Any]) -> list[Rule]:
    """The rules whose conditions hold, in rule order."""
    return [rule for rule, holds in ruleset.compiled if holds(answers)]


def tally(rules: list[Rule]) -> dict[str, int]:
    scores = dict.fromkeys(OPTIONS, 0)
    for rule in rules:
        for option, points in rule.effects.items():
            scores[option] += points
    return scores


def unmet_requirements(requirements: tuple[Rule, ...]) -> dict[str, tuple[str, ...]]:
    return {option: tuple(rule.id for rule in requirements if option in rule.excludes) for option in OPTIONS}


def ranking(scores: Mapping[str, int], unmet: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """Options best first: eligible before not, fewer unmet needs, higher score, then the simpler stack."""
    unmet = unmet or dict.fromkeys(OPTIONS, ())
    return sorted(OPTIONS, key=lambda option: (len(unmet[option]), -scores[option], SIMPLER_FIRST.index(option)))


def confidence(verdict_fits: bool, score: int, margin: int | None, tie: bool, blocked: bool) -> str:
    """High only for a recommendation that meets every need, leads clearly, and nothing blocks."""
    # Not fitting, tied, or left over once requirements ruled out the rest while the rules
    # still argue against it (a negative score): any of these is a weak verdict.
    if not verdict_fits or tie or score < 0:
        return "low"
    if margin is None or margin >= HIGH_MARGIN:
        level = "high"
    else:
        level = "medium" if margin >= MEDIUM_MARGIN else "low"
    # A blocking caveat says the plan needs work before it can hold: never high.
    return min(level, "medium", key=LEVELS.index) if blocked else level


def decide(ruleset: RuleSet, answers: Mapping[str, Any]) -> Verdict:
    """Evaluate every rule and return the verdict with its reasons, most decisive first."""
    fired = firing(ruleset, answers)
    scoring, scores, requirements, unmet, winner, runner_up = rank(fired)
    tie = runner_up is not None and scores[runner_up] == scores[winner]
    margin = scores[winner] - scores[runner_up] if runner_up else None
    scoring.sort(key=_decisiveness(winner, runner_up))
    caveats = tuple(sorted((r for r in fired if r.kind == "caveat" and winner in r.applies_to), key=_severity_first))
    blocked = any(rule.severity == "blocking" for rule in caveats)
    level = confidence(not unmet[winner], scores[winner], margin, tie, blocked)
    return Verdict(winner, level, scores, runner_up, tie, unmet, requirements, tuple(scoring), caveats)


def outcome(fired: list[Rule]) -> tuple[str, int, tuple[str, ...]]:
    """Only the recommendation, its lead and the requirements it fails: what flips need, fast."""
    _, scores, _, unmet, winner, runner_up = rank(fired)
    return winner, (scores[winner] - scores[runner_up] if runner_up else 0), unmet[winner]


def rank(
    fired: list[Rule],
) -> tuple[list[Rule], dict[str, int], tuple[Rule, ...], dict[str, tuple[str, ...]], str, str | None]:
    """What every verdict starts from: the scoring rules, the scores, the requirements, the top two."""
    # Only score rules carry effects; kinds are compared directly here, the engine's hot loop.
    scoring = [rule for rule in fired if rule.effects]
    scores = tally(scoring)
    requirements = tuple(sorted((r for r in fired if r.kind == "requirement"), key=_rule_id))
    unmet = unmet_requirements(requirements)
    winner, runner_up = top_two(scores, unmet)
    return scoring, scores, requirements, unmet, winner, runner_up


def top_two(scores: Mapping[str, int], unmet: Mapping[str, tuple[str, ...]]) -> tuple[str, str | None]:
    """The recommendation and its runner-up: the next option as close to meeting every need."""
    order = ranking(scores, unmet)
    winner = order[0]
    rivals = [option for option in order[1:] if len(unmet[option]) == len(unmet[winner])]
    return winner, (rivals[0] if rivals else None)


def _rule_id(rule: Rule) -> str:
    return rule.id


def _severity_first(rule: Rule) -> tuple[int, str]:
    return SEVERITIES.index(rule.severity), rule.id


def _decisiveness(winner: str, runner_up: str | None) -> Callable[[Rule], tuple[int, int, str]]:
    """Sort key: reasons that separate the winner from the runner-up first, then by weight, then id."""
    other = runner_up or ""

    def key(rule: Rule) -> tuple[int, int, str]:
        points = rule.effects.get(winner, 0)
        return rule.effects.get(other, 0) - points, -abs(points), rule.id

    return key


def moved(verdict: Verdict, option: str) -> list[Rule]:
    """The fired rules that moved `option`'s score, biggest contribution first."""
    rules = [rule for rule in verdict.fired if rule.effects.get(option)]
    return sorted(rules, key=lambda rule: (-rule.effects[option], rule.id))
