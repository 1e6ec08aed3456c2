"""What `advisor bench` measured: plain records the experiments fill and every output format reads.

Outcomes are observed, never written down in advance: an experiment sets `outcome` from what
happened (a result that arrived, an error that came back, a count it read), so a different
engine behaviour gives a different outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from advisor.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, AdvisorError

SCHEMA = "advisor.bench/1"
ENGINES = ("celery", "wamp")
# status: what became of one engine's run of one experiment.
OK = "ok"  # it ran; `outcome` says what was observed
TIMEOUT = "timeout"  # its own deadline ended it
ERROR = "error"  # it could not run to the end (an engine died, a call failed unexpectedly); `detail` says why
NOT_AVAILABLE = "not-available"  # the engine has no such feature (WAMP has no scheduler); `sources` cite it
STATUSES = (OK, TIMEOUT, ERROR, NOT_AVAILABLE)


class EngineMissing(AdvisorError):
    """An engine cannot run: its executable or the `advisor[engines]` extra is missing (exit 1).

    The message says what is missing and how to get it.
    """

    exit_code = EXIT_RUNTIME


@dataclass(frozen=True)
class Observation:
    """One engine's run of one experiment."""

    engine: str  # "celery" or "wamp"
    status: str  # one of STATUSES
    outcome: str  # what was observed, in plain words ("kept the task; it ran 0.8 s after a worker started")
    metrics: dict[str, Any] = field(default_factory=dict)  # numbers, e.g. p50_ms, p99_ms, per_second, samples_ms
    detail: str = ""  # why it failed or timed out; empty when ok
    sources: tuple[str, ...] = ()  # public URLs, for NOT_AVAILABLE above all


@dataclass(frozen=True)
class ExperimentResult:
    """One experiment, both engines side by side, and the rules it gives evidence for."""

    id: str  # kebab-case: round-trip, throughput, fan-out, absent-consumer, crashed-consumer, schedule
    title: str
    rules: tuple[str, ...]  # rule ids in rules/*.yaml whose claims this experiment shows
    celery: Observation
    wamp: Observation
    seconds: float  # wall time the experiment took


@dataclass(frozen=True)
class BenchResult:
    """A whole run: where it ran and every experiment's result, in order."""

    quick: bool
    where: dict[str, str]  # "broker": "local redis-server 7.0.15" or the URL without credentials; "router": ...
    machine: dict[str, Any]  # cpus, python, platform, advisor version, date
    experiments: tuple[ExperimentResult, ...]
    seconds: float
    schema: str = SCHEMA


@dataclass(frozen=True)
class Settings:
    """How much each experiment does: --quick keeps the whole run under a minute on 2 cores."""

    quick: bool
    calls: int  # round trip: timed calls per engine
    burst: int  # throughput: tasks or calls sent at once
    fanout: tuple[int, ...]  # fan-out: the numbers of consumers tried
    deadline: float  # seconds one engine's run of one experiment may take before it is ended


QUICK = Settings(quick=True, calls=200, burst=400, fanout=(1, 2, 4), deadline=30.0)
FULL = Settings(quick=False, calls=1000, burst=3000, fanout=(1, 4, 16), deadline=120.0)


class BenchCancelled(AdvisorError):
    """Ctrl-C during a run: every engine process has been stopped by then (exit 130)."""

    exit_code = EXIT_INTERRUPTED
