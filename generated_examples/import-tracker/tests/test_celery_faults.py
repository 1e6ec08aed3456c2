"""Faults, for real, on the Redis broker: the broker restarting, a worker killed, a worker stopped.

Each test runs its own redis-server and worker(s) (the factories in celery_fixtures.py), so that
what it breaks never reaches the session's worker; everything is stopped by pid at the end.
The task in flight is durable_probe's: it waits for the test to release it, so the fault
always lands in the middle of it.
"""

from __future__ import annotations

import gc
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil  # installed with mirakuru, which finds a process's children with it
import pytest
import redis
from celery import Celery

from import_tracker.celery_app import make_app
from import_tracker.settings import Settings

from celery_fixtures import RedisServer, WorkerProcess, exit_status, logged, pid_of, start_or_fail, wait_until
from durable_probe import APPLY_ONCE, NAME, attempts, ledger

# Short enough for the test, long enough that no message is restored while its worker lives.
VISIBILITY_TIMEOUT = 3


@pytest.fixture
def own_redis(start_redis: Callable[..., RedisServer]) -> Iterator[RedisServer]:
    """A redis-server of this test's own, persistent like a production broker for durable work."""
    server = start_redis(persistent=True)
    yield server
    server.stop()


@pytest.fixture
def fault_env(celery_env: dict[str, str], own_redis: RedisServer) -> dict[str, str]:
    """The workers' environment: the test's settings, on its own Redis."""
    return {**celery_env, **own_redis.env}


@pytest.fixture
def start_own_worker(
    fault_env: dict[str, str], start_worker: Callable[..., WorkerProcess]
) -> Iterator[Callable[..., WorkerProcess]]:
    """A factory: start_own_worker(name, **env) starts a worker on the test's Redis, stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(name: str, **env: str) -> WorkerProcess:
        started.append(start_worker({**fault_env, **env}, name=name))
        return started[-1]

    yield start
    for worker in reversed(started):
        worker.stop()


@pytest.fixture
def sender(fault_env: dict[str, str]) -> Iterator[Celery]:
    """An app that sends to (and reads results from) the test's own Redis."""
    app = make_app(Settings.from_env(fault_env), set_as_current=False)
    yield app
    gc.collect()  # results unsubscribe from the backend when collected: while the test's Redis runs
    app.close()


def test_task_in_flight_survives_a_redis_restart(
    own_redis: RedisServer,
    sender: Celery,
    start_own_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """Redis stops and starts again on its port mid-task: the task completes and the worker goes on consuming.

    (celery and kombu 5.7.0 killed the worker on exactly this; pyproject.toml keeps them below 5.7.)
    """
    worker = start_own_worker("restart")
    result = sender.send_task(NAME, (str(tmp_path),))
    wait_until(lambda: len(attempts(tmp_path)) == 1, 30, "the task to start", worker)
    lost = logged(worker.log, "Connection to broker lost")
    reconnected = logged(worker.log, "Connected to redis://")

    own_redis.stop()
    start_or_fail(own_redis, own_redis.log)  # the same port and data directory

    wait_until(lambda: lost() and reconnected(), 60, "the worker to reconnect to the restarted Redis", worker)
    (tmp_path / "release").touch()
    assert result.get(timeout=60) == 1
    assert sender.send_task("import_tracker.tasks.add", (2, 3)).get(timeout=60) == 5
    assert exit_status(worker) is None, "the worker ended"


def _unacknowledged_longer_than(client: redis.Redis, seconds: float) -> bool:
    # kombu's Redis transport keeps each delivered, unacknowledged message in the sorted set
    # "unacked_index", scored with the time it was delivered.
    due: Any = client.zrangebyscore("unacked_index", 0, time.time() - seconds)
    return bool(due)


def test_task_of_a_killed_worker_runs_again_and_its_effect_happens_once(
    own_redis: RedisServer,
    sender: Celery,
    start_own_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """A whole worker SIGKILLed mid-task (host lost, OOM-killed container): the message is not lost.

    acks_late left it unacknowledged; on Redis such a message goes back on the queue once it
    has been unacknowledged for visibility_timeout, when a worker starts consuming (kombu's
    restore_visible). The replacement worker runs the task again, to the end; the effect the
    first run already applied is not applied twice (durable_probe.apply_once).
    """
    victim = start_own_worker("victim", VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
    result = sender.send_task(APPLY_ONCE, (str(tmp_path),))
    wait_until(lambda: len(ledger(tmp_path)) == 1, 30, "the task to apply its effect", victim)

    victim.kill()  # SIGKILL to its process group: the main process and its pool die together
    assert len(attempts(tmp_path)) == 1
    client = redis.Redis(host=own_redis.host, port=own_redis.port, password=own_redis.password, socket_timeout=5)
    try:
        wait_until(
            lambda: _unacknowledged_longer_than(client, VISIBILITY_TIMEOUT + 0.5),
            VISIBILITY_TIMEOUT + 30,
            "the killed worker's message to outlive its visibility timeout",
        )
    finally:
        client.close()
    replacement = start_own_worker("replacement", VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
    wait_until(lambda: len(attempts(tmp_path)) == 2, 60, "the task to run again", replacement)
    (tmp_path / "release").touch()

    assert result.get(timeout=60) == {"attempts": 2, "effects": 1}
    assert ledger(tmp_path) == [result.id]


def test_sigterm_to_the_worker_lets_the_task_finish(
    sender: Celery,
    start_own_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """SIGTERM to a worker's main process mid-task: warm shutdown; the task finishes and nothing is left.

    Only the main process is signalled, as a process manager should (celery_app.py says why):
    the pool processes reset SIGTERM to the default action, so a signal to the whole process
    group would kill the task in flight.
    """
    worker = start_own_worker("sigterm")
    result = sender.send_task(NAME, (str(tmp_path),))
    wait_until(lambda: len(attempts(tmp_path)) == 1, 30, "the task to start", worker)
    main = psutil.Process(pid_of(worker))
    pool = main.children(recursive=True)
    assert int(attempts(tmp_path)[0].name.removeprefix("attempt-")) in [child.pid for child in pool]
    warm = logged(worker.log, "Warm shutdown")

    os.kill(pid_of(worker), signal.SIGTERM)
    wait_until(warm, 30, "the worker to begin its warm shutdown", worker)
    assert exit_status(worker) is None, "the worker did not wait for its task"
    (tmp_path / "release").touch()
    wait_until(lambda: exit_status(worker) is not None, 60, "the worker to exit")

    assert exit_status(worker) == 0
    assert result.get(timeout=30) == 1
    assert [child.pid for child in pool if child.is_running()] == []
