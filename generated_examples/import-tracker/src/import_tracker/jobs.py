"""A Celery task that reports its progress live to browsers through the router.

The browser calls ``import_tracker.public.start_job`` (backend.py), which enqueues
``process_job``; the worker publishes ``{job_id, percent}`` on
``import_tracker.public.jobs.progress`` after each step and ``{job_id, result}`` on
``import_tracker.public.jobs.result`` at the end, via the HTTP bridge (bridge.py).
PubSub is not durable: a page that is not connected misses the events, the task's return value
is the record.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task

from . import bridge
from .celery_app import app

PROGRESS = "import_tracker.public.jobs.progress"
RESULT = "import_tracker.public.jobs.result"
STEP_SECONDS = 0.2  # stands in for one unit of real work (10 steps: about 2 s to watch)

log = logging.getLogger(__name__)


def _announce(topic: str, payload: dict[str, Any]) -> None:
    # Live updates are best effort: a router that is down must not fail the job.
    try:
        bridge.publish(topic, payload)
    except bridge.BridgeError as exc:
        log.warning("could not publish on %s: %s", topic, exc)


@app.task(bind=True)
def process_job(self: Task, n_steps: int) -> dict[str, Any]:
    """Run `n_steps` steps, publishing progress after each; return {job_id, result}."""
    job_id = str(self.request.id)
    total = 0
    for step in range(1, n_steps + 1):
        time.sleep(STEP_SECONDS)
        total += step * step
        _announce(PROGRESS, {"job_id": job_id, "percent": round(100 * step / n_steps)})
    outcome = {"job_id": job_id, "result": total}
    _announce(RESULT, outcome)
    return outcome
