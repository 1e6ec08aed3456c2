"""The Celery application: configuration from settings.py, example tasks in tasks.py.

Run a worker with `celery -A import_tracker.celery_app worker -l info`.
This module is deliberately not called celery.py: a module named like the library shadows it
("cannot import name 'Celery' from partially initialized module"):
https://github.com/celery/celery/issues/2243

Configuration reference: https://docs.celeryq.dev/en/stable/userguide/configuration.html

Stop a worker with SIGTERM to its main process only: a warm shutdown, which lets the tasks in
flight finish (https://docs.celeryq.dev/en/stable/userguide/workers.html#stopping-the-worker).
The pool processes reset SIGTERM to its default action, so a signal to the whole process group
(`kill -- -PGID`, a supervisor's stopasgroup/killasgroup) kills the running tasks at once
(WorkerLostError) instead.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import beat_init, celeryd_after_setup, celeryd_init
from kombu.utils.url import maybe_sanitize_url

from .settings import PACKAGE, PLACEHOLDER, Settings

# Time limits for "minutes" jobs: the soft limit raises SoftTimeLimitExceeded
# inside the task so it can clean up; the hard limit kills and replaces the pool process
# (they need SIGUSR1, so not on Windows): https://docs.celeryq.dev/en/stable/userguide/workers.html#time-limits
TASK_TIME_LIMIT = 1800
TASK_SOFT_TIME_LIMIT = 1700
# An unacknowledged message is handed to another worker after visibility_timeout
# (VISIBILITY_TIMEOUT, default TASK_TIME_LIMIT + 600 s); it must be longer than the longest task
# or long tasks run twice ("Visibility timeout" in
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html).
# The margin covers retries waiting for their countdown.
# On Redis it is also how long the message of a worker that died without acknowledging it
# (SIGKILL, a lost host) waits before a worker puts it back on the queue: kombu restores
# unacknowledged messages older than visibility_timeout when a worker starts consuming, and
# again about every 100 s while it runs.

# The modules whose tasks the worker registers.
TASK_MODULES = [f"{PACKAGE}.tasks", f"{PACKAGE}.jobs"]

# A producer must fail within seconds when the broker is down, not hang
# (https://github.com/celery/celery/issues/4296, https://github.com/celery/celery/issues/6911):
# a bounded number of connection retries with short intervals (about 2 s in all).
CONNECTION_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# The prefix of every secret placeholder in .env.example: a worker or beat refuses to start with one.

log = logging.getLogger(__name__)


def config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for `settings`."""
    conf: dict[str, Any] = {
        "broker_url": settings.broker_url(),
        "result_backend": settings.result_backend(),
        # JSON only: pickle lets whoever can write to the broker run code in the worker
        # (https://docs.celeryq.dev/en/stable/userguide/security.html#serializers).
        # Also keeps ROOT_DISALLOWED from applying.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_time_limit": TASK_TIME_LIMIT,
        "task_soft_time_limit": TASK_SOFT_TIME_LIMIT,
        # Keep retrying the broker while the worker starts (it may come up after the worker).
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            **CONNECTION_RETRY,
            "socket_connect_timeout": 5,
            "visibility_timeout": settings.visibility_timeout,
        },
        # The result backend retries 20 times by default (about 20 s) before a producer gives up.
        "redis_socket_connect_timeout": 5,
        "result_backend_transport_options": {"retry_policy": CONNECTION_RETRY},
        # Task events (received, started, succeeded, failed...) for monitors: `celery events`,
        # Flower (https://docs.celeryq.dev/en/stable/userguide/monitoring.html#events). Off
        # unless TASK_EVENTS=true: each event is one more broker message per task (measured:
        # the starter's round trip was about a quarter slower with them on). A monitor can also
        # turn them on in running workers (`celery control enable_events`; Flower does).
        # "sent" is published by whoever sends the task (beat too), so a monitor sees tasks
        # that no worker has taken yet.
        "worker_send_task_events": settings.task_events,
        "task_send_sent_event": settings.task_events,
        # Replace each pool process after this many tasks: contains slow memory leaks.
        "worker_max_tasks_per_child": 1000,
        # Durable work: acknowledge a message only after its task has finished, so a task cut
        # short by a crash or a deploy runs again (at-least-once). The task must therefore be
        # idempotent (https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late,
        # https://docs.celeryq.dev/en/stable/faq.html#faq-acks-late-vs-retry).
        "task_acks_late": True,
        # Without this, a pool process killed mid-task (OOM, SIGKILL) still acks the message.
        "task_reject_on_worker_lost": True,
        # Reserve one message per process at a time: none waits unacknowledged behind a long
        # task, and a dying worker holds back nothing (https://docs.celeryq.dev/en/stable/userguide/optimizing.html#prefetch-limits).
        "worker_prefetch_multiplier": 1,
    }
    # One periodic task. Run exactly one beat per schedule, or each beat sends it
    # (https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html).
    # Critical schedules: watch that the heartbeat keeps arriving, and see README.md for a
    # single, supervised beat.
    interval = float(settings.beat_interval_seconds)
    conf["beat_schedule"] = {
        "heartbeat": {
            "task": f"{PACKAGE}.tasks.heartbeat",
            "schedule": interval,
            # A heartbeat that could not run within its interval is stale: drop it.
            "options": {"expires": interval},
        },
    }
    ssl = settings.redis_ssl()
    if ssl is not None:
        # rediss://: verify the server's certificate, for the broker and the result backend
        # (https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-use-ssl).
        conf["broker_use_ssl"] = dict(ssl)
        conf["redis_backend_use_ssl"] = dict(ssl)
    return conf


def make_app(settings: Settings | None = None, set_as_current: bool = True) -> Celery:
    """A Celery app configured from `settings` (default: from the environment)."""
    app = Celery(PACKAGE, include=TASK_MODULES, set_as_current=set_as_current)
    app.conf.update(config(settings or Settings.from_env()))
    return app


app = make_app()


def placeholder_problem(settings: Settings) -> str | None:
    """Why the broker secret in `settings` must not be used (empty or a placeholder), or None."""
    name, value = "REDIS_PASSWORD", settings.redis_password
    if value and not value.startswith(PLACEHOLDER):
        return None
    state = "still the placeholder from .env.example" if value else "empty"
    return f"{name} is {state}: refusing to start; generate a long random secret (scripts/run writes one into .env)"


# Checked when a worker or beat starts, not when this module is imported (tools and tests
# import the app without a broker). SystemExit ends the process: Celery logs and ignores
# other exceptions raised by signal handlers.
@celeryd_init.connect
def _refuse_placeholder_in_worker(**kwargs: Any) -> None:
    problem = placeholder_problem(Settings.from_env())
    if problem:
        raise SystemExit(f"celery worker: {problem}")


@beat_init.connect
def _refuse_placeholder_in_beat(**kwargs: Any) -> None:
    problem = placeholder_problem(Settings.from_env())
    if problem:
        raise SystemExit(f"celery beat: {problem}")


@celeryd_after_setup.connect
def _log_broker(sender: str, instance: Any, **kwargs: Any) -> None:
    # Only ever log the broker URL sanitized: the password is replaced by ** (as Celery itself
    # learned to: https://github.com/celery/celery/pull/9997).
    log.info("%s: broker %s", sender, maybe_sanitize_url(instance.app.conf.broker_url))
