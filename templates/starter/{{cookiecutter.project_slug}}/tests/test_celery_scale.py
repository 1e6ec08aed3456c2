"""Scaling out: two workers on one broker share the tasks{% if cookiecutter.scheduling != "none" %}, and one beat's ticks each run once{% endif %}.

The second worker runs for this module only: the other modules read the session worker's
log and expect it to be the only one consuming.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
{%- if cookiecutter.scheduling != "none" %}
from typing import cast
{%- endif %}

import pytest
{%- if cookiecutter.scheduling != "none" %}
import redis
{%- endif %}

from {{ cookiecutter.package_name }}.tasks import add

from celery_fixtures import {% if cookiecutter.scheduling != "none" %}BeatProcess, {% endif %}WorkerProcess, lines_with, {% if cookiecutter.scheduling != "none" %}log_size, {% endif %}wait_until

TASK_ID = re.compile(r"\[([0-9a-f-]{36})\]")


@pytest.fixture(scope="module")
def second_worker(
    worker: WorkerProcess, celery_env: dict[str, str], start_worker: Callable[..., WorkerProcess]
) -> Iterator[WorkerProcess]:
    """Another worker on the session's broker, next to `worker`."""
    second = start_worker(celery_env, name="second")
    yield second
    second.stop()


def ids_logged(worker: WorkerProcess, *texts: str, since: int = 0) -> list[str]:
    """The task ids on the lines of the worker's log (from byte `since` on) that hold all `texts`."""
    return [match.group(1) for line in lines_with(worker.log, *texts, since=since) if (match := TASK_ID.search(line))]


def test_two_workers_take_tasks_side_by_side(worker: WorkerProcess, second_worker: WorkerProcess) -> None:
    """Forty tasks sent at once: both workers run some of them, and each task runs once."""
    results = [add.delay(n, n) for n in range(40)]
    assert [result.get(timeout=60) for result in results] == [2 * n for n in range(40)]
    sent = {result.id for result in results}
    done = "{{ cookiecutter.package_name }}.tasks.add["

    def ran_on() -> dict[str, list[str]]:
        return {w.hostname: [i for i in ids_logged(w, done, "succeeded") if i in sent] for w in (worker, second_worker)}

    # A worker logs "succeeded" after the result is stored, so a line may trail its result.
    wait_until(lambda: sum(len(ids) for ids in ran_on().values()) == len(sent), 15, "both logs to list the tasks")
    by_worker = ran_on()
    assert all(by_worker.values()), f"a worker took no task: { {name: len(ids) for name, ids in by_worker.items()} }"
    assert Counter(i for ids in by_worker.values() for i in ids) == Counter(sent)  # each exactly once
{%- if cookiecutter.scheduling != "none" %}


def test_one_beat_with_two_workers_runs_each_tick_once(
    worker: WorkerProcess,
    second_worker: WorkerProcess,
    celery_env: dict[str, str],
    start_beat: Callable[..., BeatProcess],
    redis_client: redis.Redis,
) -> None:
    """Every heartbeat beat sends runs on one worker, once; the counter it increments counts each once.

    (A heartbeat that waited longer than its interval expires instead: it is discarded, not run.)
    """
    key = celery_env["HEARTBEAT_KEY"]

    def count() -> int:
        # redis-py types its sync and asyncio results alike; this client is sync: bytes or None.
        return int(cast("bytes | None", redis_client.get(key)) or 0)

    before = count()
    workers = (worker, second_worker)
    since = {w.hostname: log_size(w.log) for w in workers}  # what the workers did before this beat: not counted
    # At debug level beat logs the id of every task it sends ("... sent. id->").
    beat = start_beat({**celery_env, "BEAT_INTERVAL_SECONDS": "1"}, loglevel="debug")

    def sent() -> list[str]:
        return [line.rsplit("id->", 1)[1].strip() for line in lines_with(beat.log, ".tasks.heartbeat sent. id->")]

    try:
        wait_until(lambda: len(sent()) >= 4, 30, "beat to send four heartbeats", beat)
    finally:
        beat.stop()
    ticks = sent()
    heartbeat = "{{ cookiecutter.package_name }}.tasks.heartbeat["

    def outcomes(*texts: str) -> Counter[str]:
        return Counter(i for w in workers for i in ids_logged(w, heartbeat, *texts, since=since[w.hostname]))

    def accounted() -> bool:
        return set(ticks) <= set(outcomes("succeeded")) | set(outcomes("Discarding revoked task"))

    wait_until(accounted, 30, "every heartbeat sent to run or expire", worker, second_worker)
    ran = outcomes("succeeded")
    assert len(ticks) == len(set(ticks)), "beat sent a tick twice"
    assert set(ran) <= set(ticks), "a heartbeat ran that this beat did not send"
    assert ran and max(ran.values()) == 1, f"a heartbeat ran more than once: {ran}"
    assert count() - before == sum(ran.values())
{%- endif %}
