"""The Celery side of `advisor bench` against a real redis-server and real workers (issue 14).

Each experiment runs with the quick settings and must report what it observed; a different
engine behaviour (acks_late off) must give a different outcome; every process the engine
started must be gone when its ExitStack closes, Ctrl-C included; a missing redis-server and a
dead broker are reported, not waited on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from advisor.bench import celery_side, experiments
from advisor.bench.celery_side import CeleryEngine
from advisor.bench.model import ERROR, OK, QUICK, EngineMissing, Observation
from advisor.bench.processes import poll
from advisor.errors import InputError


def local_engine(stack: contextlib.ExitStack, work_dir: Path) -> CeleryEngine:
    """A CeleryEngine on its own redis-server; a missing redis-server fails the test, never skips it."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server not found on PATH: install it (apt-get install redis-server)", pytrace=False)
    return CeleryEngine(stack, work_dir)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryEngine]:
    """One redis-server for the module; afterwards, none of the processes the experiments started is left."""
    with contextlib.ExitStack() as stack:
        shared = local_engine(stack, tmp_path_factory.mktemp("celery-bench"))
        yield shared
    assert len(shared.pids()) > 1, "the experiments started no process"
    assert left_running(shared.pids()) == []


def left_running(pids: list[int]) -> list[int]:
    """The pids (and their children) that still run; zombies count as ended."""
    running = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
    return running


def test_every_experiment_id_has_a_celery_function() -> None:
    assert set(celery_side.EXPERIMENTS) == set(experiments.IDS)


def test_a_missing_redis_server_is_named_in_the_error(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack, pytest.raises(EngineMissing, match="redis-server not found at /nonexistent"):
        CeleryEngine(stack, tmp_path, executable="/nonexistent/redis-server")


def test_a_redis_server_that_cannot_start_is_an_engine_error(tmp_path: Path) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho cannot bind >&2\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    with contextlib.ExitStack() as stack, pytest.raises(EngineMissing, match="did not start") as raised:
        CeleryEngine(stack, tmp_path, executable=str(fake))
    assert "redis-server.log" in str(raised.value)


def test_the_broker_password_comes_from_the_environment_and_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(celery_side.PASSWORD_VARIABLE, "s3cret/@")
    url = celery_side.broker_url("redis://broker.example:6379/1")
    assert url == "redis://:s3cret%2F%40@broker.example:6379/1"
    assert celery_side.without_credentials(url) == "redis://broker.example:6379/1"
    assert celery_side.broker_url("amqp://bench:given@mq.example//") == "amqp://bench:given@mq.example//"


def test_a_broker_url_of_another_kind_is_refused_as_input() -> None:
    with pytest.raises(InputError, match="redis://") as refused:
        celery_side.broker_url("http://bench:s3cret@broker.example")
    assert refused.value.exit_code == 2 and "s3cret" not in str(refused.value)


@pytest.mark.slow
def test_a_broker_with_a_password_is_reached_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--broker without the password in the URL: ADVISOR_BENCH_BROKER_PASSWORD gets the workers in."""
    from mirakuru import TCPExecutor

    from advisor.bench.processes import free_port, running

    port, password = free_port(), "bench-secret-1"
    server = TCPExecutor(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--requirepass", password],
        "127.0.0.1",
        port,
        timeout=30,
    )
    with running(server), contextlib.ExitStack() as stack:
        url = f"redis://127.0.0.1:{port}/0"
        monkeypatch.setenv(celery_side.PASSWORD_VARIABLE, password)
        users = CeleryEngine(stack, tmp_path, url=url)
        assert users.alive() is None and password not in users.description
        seen = celery_side.absent_consumer(users, QUICK)
        assert (seen.status, seen.metrics["delivered"]) == (OK, True), seen.detail
        monkeypatch.setenv(celery_side.PASSWORD_VARIABLE, "wrong")
        assert CeleryEngine(stack, tmp_path / "wrong", url=url).alive() is not None  # refused, and said so


@pytest.mark.slow
def test_round_trip_times_every_call(engine: CeleryEngine) -> None:
    seen = celery_side.round_trip(engine, QUICK)
    assert (seen.status, seen.detail) == (OK, "")
    assert seen.metrics["count"] == QUICK.calls == len(seen.metrics["samples_ms"])
    assert 0 < seen.metrics["p50_ms"] <= seen.metrics["p99_ms"]
    assert f"p50 {seen.metrics['p50_ms']} ms" in seen.outcome


@pytest.mark.slow
def test_throughput_counts_every_result_of_the_burst(engine: CeleryEngine) -> None:
    seen = celery_side.throughput(engine, QUICK)
    assert (seen.status, seen.detail) == (OK, "")
    assert seen.metrics["tasks"] == QUICK.burst
    assert seen.metrics["per_second"] == pytest.approx(QUICK.burst / seen.metrics["seconds"], rel=0.01)
    assert seen.metrics["pool"] == "prefork"


@pytest.mark.slow
def test_fan_out_reaches_every_worker_for_each_n(engine: CeleryEngine) -> None:
    seen = celery_side.fan_out(engine, QUICK)
    assert (seen.status, seen.detail) == (OK, "")
    assert sorted(seen.metrics["by_n"], key=int) == [str(n) for n in QUICK.fanout]
    assert all(ms > 0 for ms in seen.metrics["by_n"].values())


@pytest.mark.slow
def test_absent_consumer_keeps_the_task_until_a_worker_starts(engine: CeleryEngine) -> None:
    seen = celery_side.absent_consumer(engine, QUICK)
    assert (seen.status, seen.detail) == (OK, "")
    assert seen.metrics["queued_while_absent"] == 1
    assert seen.metrics["state_while_absent"] == "PENDING"
    assert seen.metrics["delivered"] is True
    # It ran after the worker was launched, not before: the broker kept it meanwhile.
    assert seen.metrics["ran_after_worker_start_s"] > 0
    assert seen.outcome.startswith("kept the task")


@pytest.mark.slow
def test_crashed_consumer_with_acks_late_redelivers(engine: CeleryEngine) -> None:
    seen = celery_side.crashed_consumer(engine, QUICK, acks_late=True)
    assert (seen.status, seen.detail) == (OK, "")
    assert (seen.metrics["attempts"], seen.metrics["redelivered"]) == (2, True)
    assert seen.outcome.startswith("redelivered: the task ran again")


@pytest.mark.slow
def test_crashed_consumer_without_acks_late_loses_the_task(engine: CeleryEngine) -> None:
    seen = celery_side.crashed_consumer(engine, QUICK, acks_late=False)
    assert (seen.status, seen.detail) == (OK, "")
    assert (seen.metrics["attempts"], seen.metrics["redelivered"]) == (1, False)
    assert seen.outcome.startswith("lost: the task never ran again")


@pytest.mark.slow
def test_schedule_counts_the_runs_beat_sent(engine: CeleryEngine) -> None:
    seen = celery_side.schedule(engine, QUICK)
    assert (seen.status, seen.detail) == (OK, "")
    assert seen.metrics["runs"] >= 3
    assert seen.metrics["mean_interval_s"] == pytest.approx(seen.metrics["interval_s"], abs=0.25)
    assert f"{seen.metrics['runs']} times" in seen.outcome


@pytest.mark.slow
def test_nothing_is_left_running_after_ctrl_c(tmp_path: Path) -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt), contextlib.ExitStack() as stack:
        engine = local_engine(stack, tmp_path)
        engine.shared_worker(celery_side.Clock(QUICK.deadline))  # a prefork worker: a process with children
        for pid in engine.pids():
            pids += [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
        assert len(pids) > len(engine.pids())  # the worker's pool processes are in the list too
        raise KeyboardInterrupt
    assert left_running(pids) == []


@pytest.mark.slow
def test_a_broker_that_dies_mid_run_is_reported_at_once(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        engine = local_engine(stack, tmp_path)
        engine.shared_worker(celery_side.Clock(QUICK.deadline))
        observations: list[Observation] = []
        endless = dataclasses.replace(QUICK, calls=1_000_000)
        runner = threading.Thread(target=lambda: observations.append(celery_side.round_trip(engine, endless)))
        runner.start()
        results = redis.Redis.from_url(engine.url)
        assert poll(lambda: len(results.keys("celery-task-meta-*")) > 20, QUICK.deadline), "no round trip completed"
        results.close()
        engine.server.stop()
        stopped = time.monotonic()
        runner.join(QUICK.deadline)
        assert time.monotonic() - stopped < QUICK.deadline / 3
        [seen] = observations
        assert seen.status == ERROR
        assert "does not answer" in seen.detail
        assert "does not answer" in (engine.alive() or "")


@pytest.mark.slow
def test_an_experiment_on_a_dead_broker_does_not_start_workers(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        engine = local_engine(stack, tmp_path)
        engine.server.stop()
        seen = celery_side.absent_consumer(engine, QUICK)
        assert (seen.status, seen.outcome) == (ERROR, "")
        assert "does not answer" in seen.detail
        assert len(engine.pids()) == 1  # the redis-server only


@pytest.mark.slow
def test_the_users_broker_is_used_as_given(engine: CeleryEngine, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        users = CeleryEngine(stack, tmp_path, url=engine.url)
        assert users.description == engine.url
        assert users.server is None
        seen = celery_side.absent_consumer(users, QUICK)
        assert (seen.status, seen.metrics["delivered"]) == (OK, True)
