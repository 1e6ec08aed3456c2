"""Example tasks: each shows one thing the answers asked for, and why it is set up that way.

Keep tasks small, give them JSON-serialisable arguments (ids, not objects), and treat every
argument as untrusted input: anyone who can write to the broker can send any task.
Task options: https://docs.celeryq.dev/en/stable/userguide/tasks.html
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import cast

import redis
from celery import Task

from .celery_app import app
from .settings import Settings

log = logging.getLogger(__name__)


@app.task
def add(x: int, y: int) -> int:
    """The smallest round trip: producer -> broker -> worker -> result backend."""
    return x + y


# Retries with exponential backoff (https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions):
# after a ConnectionError the task is sent again with a countdown of 1, 2, 4, 8 ... s, capped
# at retry_backoff_max; retry_jitter randomises each countdown (between 0 and that value) so
# that many failed tasks do not all hit the partner again at the same moment. After
# max_retries the task fails for good with the last exception. Only retry errors that a
# later attempt can fix: a 4xx answer from the partner would fail again.
@app.task(
    bind=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def call_partner_api(self: Task, key: str, fail_times: int = 0) -> int:
    """Call a (simulated) partner API that fails `fail_times` times; return the attempt that worked.

    `key` identifies the call; with a real API, send it as the idempotency key so that the
    partner applies a retried call only once.
    """
    attempt = int(self.request.retries) + 1
    if attempt <= fail_times:
        raise ConnectionError(f"partner API unavailable for call {key} (simulated failure {attempt} of {fail_times})")
    log.info("partner API call %s succeeded on attempt %d", key, attempt)
    return attempt


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    # One client per pool process, created on first use (after the fork).
    settings = Settings.from_env()
    return redis.Redis.from_url(settings.redis_url(settings.redis_db + 1), **(settings.redis_ssl() or {}))


# Sent by beat every BEAT_INTERVAL_SECONDS. The count in Redis lets something outside see
# (and alert on) a schedule that stopped: no new heartbeat, no beat.
@app.task
def heartbeat() -> int:
    """Count one heartbeat in Redis (key HEARTBEAT_KEY); return the new count."""
    # redis-py types the results of its sync and asyncio clients alike; this one is sync: an int.
    return cast(int, _redis().incr(Settings.from_env().heartbeat_key))


REPORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# Durable work means acks_late (celery_app.py): a task that was cut short runs again, so every
# task must be idempotent, i.e. running it twice must leave the same state as running it once
# (https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late, https://docs.celeryq.dev/en/stable/faq.html#faq-acks-late-vs-retry).
# This one is: the report's name comes from its id, and it is written to a temporary file and
# renamed into place, so a rerun replaces the same file and a crash never leaves half of one.
# Counting, appending or charging money would not be idempotent without a key to check.
@app.task
def export_report(report_id: str, rows: list[dict[str, object]]) -> str:
    """Write `rows` as JSON to <REPORTS_DIR>/<report_id>.json, atomically; return the path."""
    if not REPORT_ID.match(report_id):
        raise ValueError("report_id must be 1-64 letters, digits, '-' or '_'")
    target_dir = Path(Settings.from_env().reports_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{report_id}.json"
    fd, temporary = tempfile.mkstemp(dir=target_dir, prefix=f".{report_id}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"report_id": report_id, "rows": rows}, handle, sort_keys=True)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(target)
