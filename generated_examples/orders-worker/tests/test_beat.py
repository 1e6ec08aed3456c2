"""Celery beat for real: it sends the heartbeat on schedule and the worker runs it."""

from __future__ import annotations

from pathlib import Path

import redis

from orders_worker import devstack
from orders_worker.celery_app import app


def test_heartbeat_is_scheduled() -> None:
    """The beat schedule holds the heartbeat task, expiring after one interval."""
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == "orders_worker.tasks.heartbeat"
    assert entry["options"]["expires"] == entry["schedule"]


def test_beat_runs_heartbeat_every_interval(
    worker: devstack.Proc,
    celery_env: dict[str, str],
    log_dir: Path,
    project_dir: Path,
    redis_client: redis.Redis,
) -> None:
    """With BEAT_INTERVAL_SECONDS=1, beat makes the worker run the heartbeat twice within 15 s."""
    key = celery_env["HEARTBEAT_KEY"]
    before = int(redis_client.get(key) or 0)

    def beats() -> int:
        return int(redis_client.get(key) or 0) - before

    beat = devstack.start_beat({**celery_env, "BEAT_INTERVAL_SECONDS": "1"}, log_dir)
    try:
        devstack.wait_until(lambda: beats() >= 2, 15, "two heartbeats", beat)
    finally:
        devstack.stop(beat)
    assert not list(project_dir.glob("celerybeat-schedule*")), "beat wrote its schedule into the project"
