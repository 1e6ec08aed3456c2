"""Celery beat for real: it sends the heartbeat on schedule and the worker runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import redis

from celery_fixtures import BeatProcess, WorkerProcess, wait_until


def test_beat_runs_heartbeat_every_interval(
    worker: WorkerProcess,
    celery_env: dict[str, str],
    start_beat: Callable[..., BeatProcess],
    project_dir: Path,
    redis_client: redis.Redis,
) -> None:
    """With BEAT_INTERVAL_SECONDS=1, beat makes the worker run the heartbeat twice within 15 s."""
    key = celery_env["HEARTBEAT_KEY"]

    def count() -> int:
        # redis-py types its sync and asyncio results alike; this client is sync: bytes or None.
        return int(cast("bytes | None", redis_client.get(key)) or 0)

    before = count()

    def beats() -> int:
        return count() - before

    beat = start_beat({**celery_env, "BEAT_INTERVAL_SECONDS": "1"})
    try:
        wait_until(lambda: beats() >= 2, 15, "two heartbeats", beat)
    finally:
        beat.stop()
    assert not list(project_dir.glob("celerybeat-schedule*")), "beat wrote its schedule into the project"
