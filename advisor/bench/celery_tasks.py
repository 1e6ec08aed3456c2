"""The Celery app that `advisor bench` workers and beat run (`celery -A advisor.bench.celery_tasks`).

Everything it needs comes in one environment variable, ADVISOR_BENCH_CONFIG (JSON, written by
advisor.bench.celery_side for each process it starts): the broker and result backend URLs,
the directory where tasks leave their marks, acks_late, task_reject_on_worker_lost, the
Redis visibility timeout, the broadcast exchange and the beat schedule. The benchmark reads
what happened from the marks tasks append to files in that directory (one line each, written
with O_APPEND), so it works the same for a Redis or an AMQP broker: the workers always run on
this machine.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from celery import Celery, signals
from kombu import Queue
from kombu.common import Broadcast

CONFIG_VARIABLE = "ADVISOR_BENCH_CONFIG"
QUICK_RETRIES = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
READY_SUFFIX = ".ready"  # a worker's node name + this: the file it writes once it consumes


def make_app(config: dict[str, Any]) -> Celery:
    """A Celery app for `config` (the JSON of ADVISOR_BENCH_CONFIG): JSON only, no state kept between runs."""
    app = Celery("advisor_bench", broker=config["broker"], backend=config["backend"], set_as_current=False)
    transport_options: dict[str, Any] = {}
    if config.get("visibility_timeout"):
        # Redis redelivers an unacknowledged message only after this many seconds (default an hour).
        transport_options["visibility_timeout"] = config["visibility_timeout"]
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=bool(config.get("acks_late", False)),
        task_reject_on_worker_lost=bool(config.get("reject_on_worker_lost", False)),
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        # A broker that stops answering is reported within a second or two, not retried for twenty.
        task_publish_retry_policy=QUICK_RETRIES,
        result_backend_transport_options={"retry_policy": QUICK_RETRIES},
        broker_connection_timeout=3,
        redis_socket_connect_timeout=3,
        redis_socket_timeout=10,
        result_expires=600,
        task_queues=queues(config),
        beat_schedule=beat_schedule(config),
    )
    return app


def queues(config: dict[str, Any]) -> list[Queue]:
    """The queues a worker may pick with -Q: plain ones are created on demand; the broadcast one is declared here."""
    declared = [Queue(name) for name in config.get("queues", ())]
    if config.get("broadcast"):
        # One exchange, and a queue of its own for every worker: each gets every message.
        declared.append(broadcast_queue(config["broadcast"]))
    return declared


def broadcast_queue(exchange: str) -> Broadcast:
    """The broadcast queue of `exchange`, for workers and sender alike.

    The routing key is explicit: Redis fanout publishes to a channel named by exchange and routing key,
    and the sender's must match the one workers bind with.
    """
    return Broadcast(exchange, routing_key=exchange)


def beat_schedule(config: dict[str, Any]) -> dict[str, Any]:
    """`tick` every `beat_interval` seconds onto `beat_queue`, when the config has one."""
    if not config.get("beat_queue"):
        return {}
    return {
        "advisor-bench-tick": {
            "task": "advisor.bench.tick",
            "schedule": float(config["beat_interval"]),
            "args": [config["beat_token"]],
            "options": {"queue": config["beat_queue"]},
        }
    }


def mark(name: str, *fields: object) -> None:
    """Append one line (the fields, then the time) to `name` in the marks directory."""
    line = " ".join([*(str(field) for field in fields), repr(time.time())]) + "\n"
    path = Path(CONFIG["dir"]) / name
    # O_APPEND: lines written by several workers at once never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)


def marks(directory: Path, name: str) -> list[list[str]]:
    """The lines `mark` wrote to `name`, split into fields (the time last); none yet: empty."""
    try:
        text = (directory / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line.split() for line in text.splitlines() if line.endswith(tuple("0123456789"))]


CONFIG: dict[str, Any] = json.loads(os.environ.get(CONFIG_VARIABLE, "null")) or {
    "broker": "memory://",
    "backend": "cache+memory://",
    "dir": ".",
}
app = make_app(CONFIG)


@app.task(name="advisor.bench.echo")
def echo(value: Any) -> Any:
    return value


@app.task(name="advisor.bench.arrive", bind=True)
def arrive(self: Any, token: str) -> str:
    """Absent consumer: record when (and by which worker) the task finally ran."""
    mark(f"arrive-{token}", self.request.hostname)
    return str(token)


@app.task(name="advisor.bench.stamp", bind=True, ignore_result=True)
def stamp(self: Any, token: str) -> None:
    """Fan-out: record which worker got the broadcast `token`, and when."""
    mark(f"stamp-{token}", self.request.hostname)


@app.task(name="advisor.bench.slow", bind=True)
def slow(self: Any, token: str, seconds: float) -> int:
    """Crashed consumer: mark the start, return the attempt count.

    Only the first attempt sleeps (its worker is killed meanwhile): a redelivered one answers at once.
    """
    mark(f"slow-{token}", "started", self.request.hostname)
    attempts = len(marks(Path(CONFIG["dir"]), f"slow-{token}"))
    if attempts == 1:
        time.sleep(seconds)
    return attempts


@app.task(name="advisor.bench.tick", ignore_result=True)
def tick(token: str) -> None:
    """Schedule: one line for every run beat sent."""
    mark(f"tick-{token}")


@signals.worker_ready.connect
def announce_ready(sender: Any = None, **_: Any) -> None:
    """A file the benchmark polls for: the worker consumes from now on (works for any broker)."""
    mark(f"{sender.hostname}{READY_SUFFIX}")
