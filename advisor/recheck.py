"""`advisor check`: re-evaluate a generated project's saved answers with the current rules.

The project keeps `.advisor-answers.yml` (the answers) and `.advisor-decision.json` (the
stack chosen and the full recommendation at generation time); this compares the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import advice as advice_mod
from advisor import answers as answers_mod
from advisor.errors import InputError
from advisor.rules import RuleSet

ANSWERS_FILE = ".advisor-answers.yml"
DECISION_FILE = ".advisor-decision.json"


@dataclass(frozen=True)
class Drift:
    """How a saved decision compares with what the current rules say."""

    stack: str | None
    then: str | None
    now: advice_mod.Advice
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[tuple[dict[str, Any], dict[str, Any]]]

    @property
    def holds(self) -> bool:
        return self.stack is None or self.now.verdict.recommendation == self.stack


def check(project: Path, ruleset: RuleSet) -> Drift:
    answers_path = project / ANSWERS_FILE
    if not answers_path.is_file():
        raise InputError(f"{project}: no {ANSWERS_FILE} here; is this a project made by advisor new?")
    answers = answers_mod.complete(ruleset.questions, answers_mod.load_file_answers(answers_path, ruleset.questions))
    now = advice_mod.advise(ruleset, answers)
    stored = _load_decision(project / DECISION_FILE)
    before = {item["rule"]: item for item in stored.get("recommendation", {}).get("fired", [])}
    after = {item["rule"]: item for item in advice_mod.to_json_data(now)["fired"]}
    return Drift(
        stack=stored.get("stack"),
        then=stored.get("recommendation", {}).get("recommendation"),
        now=now,
        added=[after[key] for key in sorted(after.keys() - before.keys())],
        removed=[before[key] for key in sorted(before.keys() - after.keys())],
        changed=[
            (before[key], after[key])
            for key in sorted(before.keys() & after.keys())
            if before[key]["effects"] != after[key]["effects"]
        ],
    )


def _load_decision(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable decision file ({exc})") from None
    return data if isinstance(data, dict) else {}


def render(drift: Drift, project: Path) -> str:
    verdict = drift.now.verdict
    lines = []
    if drift.stack is None:
        lines.append(f"{project}: no {DECISION_FILE}; comparing against nothing.")
    else:
        lines.append(f"{project}: built as {drift.stack}; the advisor recommended {drift.then} then.")
    lines.append(f"Now the rules recommend {verdict.recommendation} (confidence {verdict.confidence}).")
    lines.append(
        "The decision still holds."
        if drift.holds
        else f"The decision no longer holds: {drift.stack} -> {verdict.recommendation}."
    )
    if drift.added or drift.removed or drift.changed:
        lines.append("Changes in the reasons since then:")
        lines += [f"  + {item['rule']}: {item['title']} (fires now)" for item in drift.added]
        lines += [f"  - {item['rule']}: {item['title']} (no longer fires)" for item in drift.removed]
        lines += [f"  ~ {new['rule']}: effects {_effects(old)} -> {_effects(new)}" for old, new in drift.changed]
    else:
        lines.append("No rule that decided it has changed.")
    return "\n".join(lines) + "\n"


def _effects(item: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value:+d}" for key, value in item["effects"].items())
