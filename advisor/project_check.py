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
    # What the current rules recommend for the answers given then (None: no decision file).
    same_answers: str | None
    # (question id, answer then, answer now) for every answer edited since generation.
    edits: list[tuple[str, Any, Any]]
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[tuple[dict[str, Any], dict[str, Any]]]

    @property
    def chosen(self) -> bool:
        """Built with `advisor new --stack` against the verdict of the day."""
        return self.stack is not None and self.then is not None and self.stack != self.then

    @property
    def holds(self) -> bool:
        now = self.now.verdict.recommendation
        # A deliberate --stack holds while the advice is the one it was chosen against.
        return self.stack is None or now == self.stack or (self.chosen and now == self.then)


def check(project: Path, ruleset: RuleSet) -> Drift:
    _check_directory(project)
    answers_path = project / ANSWERS_FILE
    if not answers_path.is_file():
        raise InputError(f"{project}: no {ANSWERS_FILE} here; is this a project made by advisor new?")
    answers = answers_mod.complete(ruleset.questions, answers_mod.load_file_answers(answers_path, ruleset.questions))
    now = advice_mod.advise(ruleset, answers)
    stored = _load_decision(project / DECISION_FILE)
    then_answers = _answers_then(stored, ruleset)
    before = {item["rule"]: item for item in stored.get("recommendation", {}).get("fired", [])}
    after = {item["rule"]: item for item in advice_mod.to_json_data(now)["fired"]}
    return Drift(
        stack=stored.get("stack"),
        then=stored.get("recommendation", {}).get("recommendation"),
        now=now,
        same_answers=None if then_answers is None else advice_mod.advise(ruleset, then_answers).verdict.recommendation,
        edits=[]
        if then_answers is None
        else [(qid, then_answers[qid], answers[qid]) for qid in answers if then_answers[qid] != answers[qid]],
        added=[after[key] for key in sorted(after.keys() - before.keys())],
        removed=[before[key] for key in sorted(before.keys() - after.keys())],
        changed=[
            (before[key], after[key])
            for key in sorted(before.keys() & after.keys())
            if before[key]["effects"] != after[key]["effects"]
        ],
    )


def _check_directory(project: Path) -> None:
    # A mistyped path is not "a directory that is no project": say which it is.
    if not project.exists():
        raise InputError(f"{project}: no such directory")
    if not project.is_dir():
        raise InputError(f"{project}: not a directory; pass the project's directory")


def _answers_then(stored: dict[str, Any], ruleset: RuleSet) -> dict[str, Any] | None:
    """The answers the decision was made on, completed like today's (None without a decision file).

    Answers to questions since removed, or values no longer allowed, are left out: they can
    neither be compared with today's answers nor given to today's rules.
    """
    given = stored.get("recommendation", {}).get("answers")
    if not isinstance(given, dict):
        return None
    bank = ruleset.questions
    known = {
        qid: value for qid, value in given.items() if qid in bank.questions and bank.questions[qid].check(value) is None
    }
    return answers_mod.complete(bank, known)


def _load_decision(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable decision file ({exc})") from None
    return data if isinstance(data, dict) else {}


def render(drift: Drift, project: Path) -> str:
    lines = [_built(drift, project), *_causes(drift), _verdict_line(drift)]
    if drift.added or drift.removed or drift.changed:
        lines.append("Changes in the reasons since then:")
        lines += [f"  + {item['rule']}: {item['title']} (fires now)" for item in drift.added]
        lines += [f"  - {item['rule']}: {item['title']} (no longer fires)" for item in drift.removed]
        lines += [f"  ~ {new['rule']}: effects {_effects(old)} -> {_effects(new)}" for old, new in drift.changed]
    else:
        lines.append("No rule that decided it has changed.")
    return "\n".join(lines) + "\n"


def _built(drift: Drift, project: Path) -> str:
    if drift.stack is None:
        return f"{project}: no {DECISION_FILE}; comparing against nothing."
    if drift.chosen:
        return (
            f"{project}: built as {drift.stack} by choice (advisor new --stack); "
            f"the advisor recommended {drift.then} then."
        )
    return f"{project}: built as {drift.stack}; the advisor recommended {drift.then} then."


def _causes(drift: Drift) -> list[str]:
    """What moved since generation: the answers, the rules, or both, each said apart."""
    verdict = drift.now.verdict
    if drift.same_answers is None:
        return [f"Now the rules recommend {verdict.recommendation} (confidence {verdict.confidence})."]
    lines = []
    if drift.same_answers != drift.then:
        lines.append(
            f"The rules now recommend {drift.same_answers} for the same answers (they recommended {drift.then})."
        )
    else:
        lines.append(f"The rules still recommend {drift.then} for the same answers.")
    if drift.edits:
        edits = ", ".join(f"{qid} {_text(old)} -> {_text(new)}" for qid, old, new in drift.edits)
        lines.append(f"The answers changed since then: {edits}.")
        lines.append(
            f"With the answers as they are now, the advisor recommends {verdict.recommendation} "
            f"(confidence {verdict.confidence})."
        )
    return lines


def _verdict_line(drift: Drift) -> str:
    now = drift.now.verdict.recommendation
    if not drift.holds:
        return f"The decision no longer holds: {drift.stack} -> {now}."
    if drift.chosen and now != drift.stack:
        return f"The decision still holds: {drift.stack} was chosen over {now}, and {now} is still the advice."
    return "The decision still holds."


def _text(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else str(value)


def _effects(item: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value:+d}" for key, value in item["effects"].items())
