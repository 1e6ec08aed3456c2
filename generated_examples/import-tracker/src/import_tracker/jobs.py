"""A Celery task that reports its progress live to its user's browsers through the router.

A signed-in browser calls ``import_tracker.jobs.start`` (backend.py), which takes a quota
slot (quota.py) and enqueues ``process_job`` for the caller's authid. The worker publishes every
event of the job on ``import_tracker.user.<user>.jobs``, a topic only that user may subscribe
to (the router asks the backend's authorizer), via the HTTP bridge (bridge.py):

- ``{"job_id", "seq", "kind": "progress", "percent"}`` after each step;
- ``{"job_id", "seq", "kind": "result", "result"}`` at the end.

``seq`` starts at 1 and increases by one per event of a job. Consumer contract: ignore an event
whose ``seq`` is not above the last one seen for that job, and every event after the job's
result. The bridge may deliver a replayed request again (bridge.py); so handled, a replay
changes nothing (web/app.js does this).

PubSub is not durable: a page that is not connected misses the events, the task's return value
is the record.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from celery import Task

from . import bridge
from .celery_app import app
from .quota import Quota, make_quota
from .settings import Settings

PACKAGE = "import_tracker"
STEP_SECONDS = 0.2  # stands in for one unit of real work (10 steps: about 2 s to watch)

log = logging.getLogger(__name__)


def job_topic(user: str) -> str:
    """The topic of `user`'s job events (user ids never contain a dot: tickets.py)."""
    return f"{PACKAGE}.user.{user}.jobs"


def job_event(job_id: str, seq: int, kind: str, **fields: Any) -> dict[str, Any]:
    """One event of a job, as published on job_topic()."""
    return {"job_id": job_id, "seq": seq, "kind": kind, **fields}


def _announce(topic: str, payload: dict[str, Any]) -> None:
    # Live updates are best effort: a router that is down must not fail the job.
    try:
        bridge.publish(topic, payload)
    except bridge.BridgeError as exc:
        log.warning("could not publish on %s: %s", topic, exc)


@functools.cache
def _quota() -> Quota:
    """One quota client per worker process (it holds a connection pool)."""
    return make_quota(Settings.from_env())


def _release(user: str, job_id: str) -> None:
    # The quota slot lapses by itself (quota.RUNNING_LEASE) if this fails.
    try:
        _quota().release(user, job_id)
    except Exception:  # never fail a finished job over its quota slot
        log.warning("could not release the quota slot of job %s", job_id, exc_info=True)


@app.task(bind=True)
def process_job(self: Task, user: str, n_steps: int) -> dict[str, Any]:
    """Run `n_steps` steps for `user`, publishing progress after each; return {job_id, result}."""
    job_id = str(self.request.id)
    topic = job_topic(user)
    total = 0
    try:
        for step in range(1, n_steps + 1):
            time.sleep(STEP_SECONDS)
            total += step * step
            _announce(topic, job_event(job_id, step, "progress", percent=round(100 * step / n_steps)))
        _announce(topic, job_event(job_id, n_steps + 1, "result", result=total))
    finally:
        _release(user, job_id)
    return {"job_id": job_id, "result": total}
