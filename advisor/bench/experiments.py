"""The experiments `advisor bench` runs, in order: what each shows and which rules it gives evidence for.

Each engine side (advisor.bench.celery_side, advisor.bench.wamp_side) implements every id;
the runner runs them in this order. The rule ids must exist in the shipped rules (a test checks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    question: str  # what it asks of both engines, in plain words
    rules: tuple[str, ...]


EXPERIMENTS = (
    Experiment(
        "round-trip",
        "Round trip of a small call",
        "How long does one small call take, from asking to having its result (p50 and p99)?",
        ("crossbar-rpc-submillisecond", "celery-queue-latency", "celery-poor-for-request-response"),
    ),
    Experiment(
        "throughput",
        "Sustained throughput",
        "How many tasks (Celery) or calls (WAMP) per second complete when many are sent at once?",
        ("celery-horizontal-workers", "crossbar-rpc-submillisecond"),
    ),
    Experiment(
        "fan-out",
        "One event to N consumers",
        "How long until the last of N independent consumers has one event (WAMP PubSub; Celery broadcast queue)?",
        ("pubsub-implicit-fanout", "wamp-pubsub-fire-and-forget"),
    ),
    Experiment(
        "absent-consumer",
        "No consumer running",
        "What happens to work sent while no worker (Celery) or no callee (WAMP) is running?",
        ("durable-work-needs-a-queue", "acks-late-durable-work", "wamp-no-retries"),
    ),
    Experiment(
        "crashed-consumer",
        "Consumer killed mid-job",
        "What happens to a job whose worker (Celery, acks_late) or callee (WAMP) is killed while running it?",
        ("acks-late-durable-work", "acks-late-needs-idempotent-tasks", "wamp-no-retries"),
    ),
    Experiment(
        "schedule",
        "Periodic work",
        "Does the engine itself run a job every second (Celery beat; WAMP has no scheduler)?",
        ("beat-periodic-schedules", "wamp-has-no-scheduler"),
    ),
)
IDS = tuple(experiment.id for experiment in EXPERIMENTS)
