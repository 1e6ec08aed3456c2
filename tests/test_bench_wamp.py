"""The WAMP side of `advisor bench` against a real Crossbar router and real Autobahn peers.

Each experiment runs with --quick settings and must report what came back (error URIs,
counts), never a timing the test made up. The crossbar executable comes from $CROSSBAR_BIN
or the repository's .venv-crossbar; when it is missing the tests fail at once, never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from advisor import advice
from advisor.bench import wamp_side
from advisor.bench.experiments import IDS
from advisor.bench.model import ERROR, NOT_AVAILABLE, OK, QUICK, TIMEOUT, EngineMissing, Observation, Settings
from advisor.bench.processes import poll
from advisor.bench.wamp_peers import CALLEE_READY, SLOW_STARTED, Peer, Refused, join
from advisor.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def crossbar() -> str:
    """The crossbar executable ($CROSSBAR_BIN, else .venv-crossbar/bin/crossbar); fails fast when missing."""
    path = os.environ.get("CROSSBAR_BIN") or str(ROOT / ".venv-crossbar" / "bin" / "crossbar")
    if not os.access(path, os.X_OK):
        pytest.fail(f"crossbar not found at {path}: run `scripts/setup` or set CROSSBAR_BIN", pytrace=False)
    return path


@contextlib.contextmanager
def started(crossbar: str, work_dir: Path) -> Iterator[tuple[wamp_side.WampEngine, contextlib.ExitStack]]:
    with contextlib.ExitStack() as stack:
        yield wamp_side.WampEngine(stack, work_dir, executable=crossbar), stack


@pytest.fixture(scope="module")
def engine(crossbar: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[wamp_side.WampEngine]:
    """One local router for the experiments, as one bench run has."""
    with started(crossbar, tmp_path_factory.mktemp("wamp")) as (running, _):
        yield running


def ok(observation: Observation) -> Observation:
    assert observation.status == OK, observation.detail
    return observation


def test_every_experiment_id_has_a_wamp_function() -> None:
    assert list(wamp_side.EXPERIMENTS) == list(IDS)


def test_a_missing_crossbar_is_named_with_how_to_get_it(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack, pytest.raises(EngineMissing) as caught:
        wamp_side.WampEngine(stack, tmp_path, executable="/nonexistent/crossbar")
    assert "/nonexistent/crossbar" in str(caught.value)
    assert "ADVISOR_CROSSBAR" in str(caught.value)
    assert caught.value.exit_code == 1


def test_a_router_url_must_be_a_websocket_and_is_reported_without_credentials(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        with pytest.raises(InputError, match="ws:// or wss://"):
            wamp_side.WampEngine(stack, tmp_path, url="http://127.0.0.1:8080/ws")
        remote = wamp_side.WampEngine(stack, tmp_path, url="wss://someone:hunter2@router.example:8443/ws")
    assert remote.description == "Crossbar router at wss://router.example:8443/ws (realm bench)"


def test_outcomes_say_what_a_router_that_kept_or_repeated_calls_would_have_done() -> None:
    # Crossbar never does these; a router (or a future version) that did must not read as WAMP's usual.
    assert "yet the call ran when a callee registered later" in wamp_side.absent_outcome("x.error", 2.0, True, 1.0)
    assert "nothing was kept" in wamp_side.absent_outcome("x.error", 2.0, False, 1.0)
    assert "failed only (x.error) after 1500.0 ms" in wamp_side.absent_outcome("x.error", 1500.0, False, 1.0)
    assert wamp_side.crashed_outcome("x.error", 9.0, True, 1.0).endswith("the call ran again on a new callee")
    assert wamp_side.crashed_outcome(None, 9.0, False, 1.0).startswith("the caller got an answer")
    short = wamp_side.fan_out_outcome({"1": 1.0, "4": None}, {4: 0}, 5)
    assert "after 1.00 ms, never (median of 5 events)" in short and "at N = 4 only 0 had one event" in short


@pytest.mark.slow
def test_round_trip_times_every_call_and_each_answer_is_its_own(engine: wamp_side.WampEngine) -> None:
    observation = ok(wamp_side.round_trip(engine, QUICK))
    metrics = observation.metrics
    assert metrics["count"] == len(metrics["samples_ms"]) == QUICK.calls
    assert 0 < metrics["p50_ms"] <= metrics["p99_ms"]
    assert f"{QUICK.calls} calls" in observation.outcome
    assert f"p50 {metrics['p50_ms']:.2f} ms" in observation.outcome


@pytest.mark.slow
def test_throughput_counts_the_calls_answered_in_a_burst(engine: wamp_side.WampEngine) -> None:
    observation = ok(wamp_side.throughput(engine, QUICK))
    assert observation.metrics["answered"] == observation.metrics["count"] == QUICK.burst
    assert observation.metrics["per_second"] > 0
    assert f"{observation.metrics['per_second']:.0f} calls per second" in observation.outcome


@pytest.mark.slow
def test_fan_out_reaches_exactly_n_sessions_for_each_n(engine: wamp_side.WampEngine) -> None:
    observation = ok(wamp_side.fan_out(engine, QUICK))
    by_n = observation.metrics["by_n"]
    assert list(by_n) == [str(n) for n in QUICK.fanout]
    assert all(ms is not None and ms > 0 for ms in by_n.values())
    assert "every session had every event" in observation.outcome


@pytest.mark.slow
def test_a_call_without_a_callee_fails_and_is_not_kept(engine: wamp_side.WampEngine) -> None:
    observation = ok(wamp_side.absent_consumer(engine, QUICK))
    assert observation.metrics["error"] == "wamp.error.no_such_procedure"
    assert observation.metrics["ran_later"] is False
    assert "(wamp.error.no_such_procedure)" in observation.outcome
    assert "nothing was kept" in observation.outcome


@pytest.mark.slow
def test_with_a_callee_present_the_same_call_answers(engine: wamp_side.WampEngine) -> None:
    without = ok(wamp_side.absent_consumer(engine, QUICK))
    present = ok(wamp_side.absent_consumer(engine, QUICK, with_callee=True))
    assert present.metrics["error"] is None
    assert present.outcome.startswith("answered")
    assert present.outcome != without.outcome


@pytest.mark.slow
def test_a_killed_callee_gives_the_caller_an_error_and_no_rerun(engine: wamp_side.WampEngine) -> None:
    observation = ok(wamp_side.crashed_consumer(engine, QUICK))
    error = observation.metrics["error"]
    assert error is not None and error.startswith("wamp.error.")
    assert observation.metrics["attempts"] == 1
    assert f"the caller got {error}" in observation.outcome
    assert "not run again" in observation.outcome


def test_schedule_is_not_available_with_the_rule_s_sources(tmp_path: Path) -> None:
    observation = wamp_side.schedule(None, QUICK)  # type: ignore[arg-type]  # it needs no engine
    assert observation.status == NOT_AVAILABLE
    assert observation.sources == advice.load_ruleset().find("wamp-has-no-scheduler").sources
    assert "no scheduler" in observation.outcome


@pytest.mark.slow
def test_an_experiment_that_cannot_finish_in_its_deadline_is_ended_and_says_so(engine: wamp_side.WampEngine) -> None:
    # absent-consumer watches 1 s for a kept call after starting a callee: more than 1 s in all.
    short = Settings(quick=True, calls=QUICK.calls, burst=QUICK.burst, fanout=QUICK.fanout, deadline=1.0)
    before = len(engine.pids)
    start = time.monotonic()
    observation = wamp_side.absent_consumer(engine, short)
    assert observation.status == TIMEOUT
    assert "deadline of 1 s" in observation.detail
    assert time.monotonic() - start < 1.0 + 5  # ended by the deadline, not by some later wait
    assert not still_running(set(engine.pids[before:]))  # the callee it started is stopped


@pytest.mark.slow
def test_the_bench_router_refuses_an_anonymous_session(engine: wamp_side.WampEngine) -> None:
    anonymous = Peer(engine.peer.url, engine.peer.realm)
    wrong = Peer(engine.peer.url, engine.peer.realm, engine.peer.authid, "not-the-ticket")

    async def attempt(peer: Peer) -> None:
        _, transport = await join(peer, 10.0)
        transport.close()

    for refused in (anonymous, wrong):
        with pytest.raises(Refused):
            asyncio.run(attempt(refused))
    asyncio.run(attempt(engine.peer))  # the run's own ticket is let in


@pytest.mark.slow
def test_a_router_given_by_url_is_used_with_credentials_from_the_environment(
    engine: wamp_side.WampEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert engine.peer.ticket and engine.peer.authid
    monkeypatch.setenv("ADVISOR_BENCH_AUTHID", engine.peer.authid)
    monkeypatch.setenv("ADVISOR_BENCH_TICKET", engine.peer.ticket)
    with contextlib.ExitStack() as stack:
        remote = wamp_side.WampEngine(stack, tmp_path, url=engine.peer.url)
        assert remote.alive() is None
        assert engine.peer.ticket not in remote.description
        assert remote.description.startswith(f"Crossbar router at {engine.peer.url}")
        ok(wamp_side.round_trip(remote, QUICK))


def process_tree(pids: list[int]) -> set[int]:
    tree = set(pids)
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            tree |= {child.pid for child in psutil.Process(pid).children(recursive=True)}
    return tree


def still_running(pids: set[int]) -> set[int]:
    running = set()
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.add(pid)
    return running


@pytest.mark.slow
def test_closing_the_stack_stops_every_process_the_engine_started(crossbar: str, tmp_path: Path) -> None:
    with started(crossbar, tmp_path) as (running, stack):
        ok(wamp_side.round_trip(running, QUICK))  # the shared echo callee
        running.start_peer(["callee", "--procedure", "slow"], CALLEE_READY, 30)  # as if mid-experiment
        tree = process_tree(running.pids)
        assert len(running.pids) == 3 and still_running(tree) == tree
        stack.close()  # what Ctrl-C in the runner does
        assert poll(lambda: not still_running(tree), 10) is not None, still_running(tree)


@pytest.mark.slow
def test_closing_the_stack_mid_experiment_stops_it_and_everything_started(crossbar: str, tmp_path: Path) -> None:
    results: list[Observation] = []
    with started(crossbar, tmp_path) as (running, stack):
        worker = threading.Thread(target=lambda: results.append(wamp_side.crashed_consumer(running, QUICK)))
        worker.start()  # as the runner runs an experiment; Ctrl-C then closes the stack in the main thread
        # Close once the callee runs the call it is about to be killed in: the experiment is mid-way.
        slow_started = lambda: any(SLOW_STARTED in log.read_text() for log in tmp_path.glob("wamp-callee-*.log"))  # noqa: E731
        assert poll(slow_started, QUICK.deadline), "the experiment's callee never started the call"
        tree = process_tree(running.pids)
        stack.close()
        worker.join(QUICK.deadline)
        assert not worker.is_alive()
        assert poll(lambda: not still_running(process_tree(running.pids) | tree), 10) is not None
    assert [observation.status for observation in results] == [ERROR]


@pytest.mark.slow
def test_a_dead_router_is_reported_and_an_experiment_errors_without_waiting(crossbar: str, tmp_path: Path) -> None:
    with started(crossbar, tmp_path) as (running, _):
        assert running.alive() is None
        assert running.router is not None
        running.router.stop()
        reason = running.alive()
        assert reason is not None and "exited" in reason
        start = time.monotonic()
        observation = wamp_side.round_trip(running, QUICK)
        assert observation.status == ERROR
        assert "exited" in observation.detail
        assert time.monotonic() - start < QUICK.deadline / 2
        # The same router seen as a user's router (no process to watch, only its address).
        remote = wamp_side.WampEngine(contextlib.ExitStack(), tmp_path, url=running.peer.url)
        assert "does not answer" in (remote.alive() or "")
        observation = wamp_side.fan_out(remote, QUICK)
        assert observation.status == ERROR and "does not answer" in observation.detail


@pytest.mark.slow
def test_a_work_dir_used_by_an_earlier_run_does_not_leak_into_the_next(crossbar: str, tmp_path: Path) -> None:
    """Readiness and receipts are read from logs: an earlier run's lines must not count."""
    for _ in range(2):
        with started(crossbar, tmp_path) as (running, _):
            observation = ok(wamp_side.fan_out(running, QUICK))
            by_n = observation.metrics["by_n"]
            assert list(by_n) == [str(n) for n in QUICK.fanout]
            assert all(ms > 0 for ms in by_n.values()), observation.outcome
            assert ok(wamp_side.absent_consumer(running, QUICK, with_callee=True)).outcome.startswith("answered")
