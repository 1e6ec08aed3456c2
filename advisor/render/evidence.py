"""`recommend --evidence FILE`: what `advisor bench` measured, beside the rules of this verdict.

An experiment is shown when one of the rules it gives evidence for is relevant here: it moved
the scores, it is a requirement behind the fit table, or it is a caveat or note the report
shows. Each format reads the one Evidence built here (the view holds it; JSON adds its data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import InputError

if TYPE_CHECKING:
    from advisor.bench.model import BenchResult, Observation
    from advisor.engine import Verdict

TITLE = "Measured on your machine"


@dataclass(frozen=True)
class Measured:
    """One experiment's two outcomes, next to the rules of this report it gives evidence for."""

    id: str
    title: str
    rules: tuple[str, ...]
    celery: str
    wamp: str
    celery_status: str
    wamp_status: str


@dataclass(frozen=True)
class Evidence:
    when: str  # the run's date (UTC)
    where: str  # quick or full, machine, broker and router
    items: tuple[Measured, ...]

    def note_for(self, rule: str) -> str:
        """`measured: see …` for a rule that an experiment shown here gives evidence for; else ""."""
        ids = [item.id for item in self.items if rule in item.rules]
        return f"measured: see {TITLE} ({', '.join(ids)})" if ids else ""


def load(path: Path) -> BenchResult:
    """A bench document from `advisor bench --format json`; anything else is an input error naming the field."""
    from advisor.render import bench

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"--evidence {path}: cannot read it: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--evidence {path}: not a JSON document from advisor bench ({exc})") from None
    return bench.from_json_data(data, f"--evidence {path}")


def relevant_rules(verdict: Verdict) -> set[str]:
    """The rules a report about `verdict` shows: fired, requirements, caveats and notes."""
    return {rule.id for rule in (*verdict.fired, *verdict.requirements, *verdict.caveats)}


def build(verdict: Verdict, result: BenchResult) -> Evidence:
    from advisor.render import bench

    shown = relevant_rules(verdict)
    items = tuple(
        Measured(
            item.id,
            item.title,
            tuple(rule for rule in item.rules if rule in shown),
            _told(item.celery),
            _told(item.wamp),
            item.celery.status,
            item.wamp.status,
        )
        for item in result.experiments
        if shown.intersection(item.rules)
    )
    return Evidence(str(result.machine.get("date", "")), bench.where_line(result), items)


def _told(seen: Observation) -> str:
    from advisor.render import bench

    return bench.said(seen)  # the outcome states its own key figures


def to_json_data(evidence: Evidence) -> dict[str, Any]:
    """The `evidence` member of `advisor.recommendation/2` (optional; docs/formats.md)."""
    return {
        "measured": evidence.when,
        "where": evidence.where,
        "experiments": [
            {
                "id": item.id,
                "title": item.title,
                "rules": list(item.rules),
                "celery": {"status": item.celery_status, "outcome": item.celery},
                "wamp": {"status": item.wamp_status, "outcome": item.wamp},
            }
            for item in evidence.items
        ],
    }
