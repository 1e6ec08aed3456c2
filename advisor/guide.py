"""Placeholder for the guide (branch i13-guide builds the real one): operating costs, staged paths, terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cost:
    option: str
    services: tuple[str, ...]
    processes: tuple[str, ...]
    deploy: str
    secure: str
    monitor: str
    upgrade: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    title: str
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Term:
    term: str
    meaning: str
    source: str


@dataclass(frozen=True)
class Guide:
    costs: dict[str, Cost]
    terms: tuple[Term, ...]

    def stages(self, outcome: str, answers: dict[str, Any]) -> tuple[Stage, ...]:
        return (Stage("Start", f"Start with {outcome}.", ("https://example.org/",)),)


def load_guide() -> Guide:
    costs = {
        option: Cost(option, ("a broker",), ("workers",), "deploy it", "secure it", "watch it", "upgrade it", ())
        for option in ("celery", "crossbar", "hybrid", "neither")
    }
    terms = (
        Term("visibility timeout", "how long a broker waits", "https://example.org/"),
        Term("broker", "the server that holds queued messages", "https://example.org/"),
    )
    return Guide(costs, terms)
