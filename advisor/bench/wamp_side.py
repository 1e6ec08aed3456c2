"""The WAMP side of `advisor bench`: a Crossbar router (local, or the user's), Autobahn peers,
and the six experiments, each returning what it observed.

Local: a Crossbar router on a free 127.0.0.1 port, configured in WORK_DIR/.crossbar/config.json
with one realm `bench`, no anonymous role, and ticket authentication for the role `bench`
with a ticket made up for this run (it reaches the router and the peers through the
environment, never a command line or the config file). The user's router (--router ws://…
or wss://…): realm, authid and ticket from ADVISOR_BENCH_REALM (default `bench`),
ADVISOR_BENCH_AUTHID and ADVISOR_BENCH_TICKET; anonymous when no ticket is set. The role
needs call, register, publish and subscribe on the URI prefix `bench.`.

Callees and subscribers are separate processes (advisor.bench.wamp_peers); the caller and
publisher is this process, one asyncio.run per experiment, bounded by settings.deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.bench.model import ERROR, NOT_AVAILABLE, OK, TIMEOUT, EngineMissing, Observation, Settings
from advisor.bench.processes import (
    START_TIMEOUT,
    Clock,
    ReadyExecutor,
    free_port,
    kill,
    latency_metrics,
    log_to,
    logged,
    stop,
    without_credentials,
)
from advisor.errors import InputError

ENGINE = "wamp"
REALM = "bench"
AUTHID = "bench"
ROUTER_STARTED = "local node configuration ran successfully"  # Crossbar's log once every worker runs
PEER_MODULE = "advisor.bench.wamp_peers"
WARM_UPS = 20  # untimed calls first: connections, JIT-free but cache-warm paths in router and callee
JOIN_TIMEOUT = 10.0  # seconds for one session to connect and join
ALIVE_TIMEOUT = 3.0  # seconds alive() waits for the router's WebSocket handshake
AT_ONCE_MS = 1000.0  # an error this fast is "at once": no timeout or retry was waited for
CROSSBAR_HINT = (
    "install Crossbar.io in a virtualenv of its own (`python3 -m venv ~/.crossbar && ~/.crossbar/bin/pip install "
    "crossbar`) and set ADVISOR_CROSSBAR to its bin/crossbar, or put crossbar on PATH"
)
ENGINES_HINT = "install the engines extra: pip install 'advisor[engines]'"


def find_crossbar(executable: str | None) -> str:
    """The crossbar executable: `executable`, else $ADVISOR_CROSSBAR, else crossbar on PATH."""
    candidate = executable or os.environ.get("ADVISOR_CROSSBAR") or "crossbar"
    found = shutil.which(candidate)
    if found is None:
        raise EngineMissing(f"crossbar not found ({candidate}): {CROSSBAR_HINT}")
    return os.path.abspath(found)  # the router runs in its cbdir: a relative path would break there


def require_autobahn() -> None:
    try:
        import autobahn  # noqa: F401
    except ImportError as exc:
        raise EngineMissing(f"autobahn is not installed ({exc}): {ENGINES_HINT}") from exc


def router_config(port: int) -> dict[str, Any]:
    """One router worker, realm `bench`, a WebSocket on 127.0.0.1:PORT, ticket authentication only."""
    permission = {
        "uri": "bench.",  # each run's URIs are bench.<run id>.…
        "match": "prefix",
        "allow": {"call": True, "register": True, "publish": True, "subscribe": True},
        "disclose": {"caller": False, "publisher": False},
        "cache": True,
    }
    # "${VAR}": Crossbar reads the ticket from its environment, so it is in no file.
    principals = {AUTHID: {"ticket": "${ADVISOR_BENCH_TICKET}", "role": "bench"}}
    transport = {
        "type": "websocket",
        "endpoint": {"type": "tcp", "port": port, "interface": "127.0.0.1"},
        "serializers": ["json"],
        "auth": {"ticket": {"type": "static", "principals": principals}},
    }
    realm = {"name": REALM, "roles": [{"name": "bench", "permissions": [permission]}]}
    worker = {"type": "router", "realms": [realm], "transports": [transport]}
    return {"version": 2, "controller": {}, "workers": [worker]}


def fresh_log(log: Path) -> Path:
    """`log`, emptied: readiness and results are read from it, so no earlier run's lines may count."""
    log.unlink(missing_ok=True)
    return log


def tail(log: Path, lines: int = 8) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def handshake_status(url: str, timeout: float) -> str:
    """The status line the router answers a WAMP WebSocket handshake at `url` with."""
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if secure else 80)
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=timeout) as raw:
        conn = ssl.create_default_context().wrap_socket(raw, server_hostname=host) if secure else raw
        conn.sendall(request.encode("ascii"))
        return conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]


class Unexpected(Exception):
    """The engine did something the experiment cannot go on from (a wrong answer, a peer that never started)."""


@dataclass
class PeerProcess:
    """A started peer and its log."""

    executor: ReadyExecutor
    log: Path

    def lines(self, prefix: str) -> list[str]:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if line.startswith(prefix)]


class WampEngine:
    """A Crossbar router to run the experiments against, and the peers started for them."""

    def __init__(self, stack: ExitStack, work_dir: Path, url: str | None = None, executable: str | None = None) -> None:
        require_autobahn()
        from advisor.bench.wamp_peers import Peer

        self.stack = stack
        self.work_dir = work_dir
        self.pids: list[int] = []  # every process this engine started, for the tests
        self.router: ReadyExecutor | None = None
        self._callee: PeerProcess | None = None
        self._count = 0
        self.prefix = f"bench.{secrets.token_hex(4)}"  # this run's URIs: no clash with another run on the router
        if url is None:
            port = free_port()
            ticket = secrets.token_urlsafe(24)
            self.peer = Peer(f"ws://127.0.0.1:{port}/", REALM, AUTHID, ticket)
            version = self._start_router(find_crossbar(executable), port, ticket)
            self.description = " ".join(filter(None, ["local Crossbar router", version, f"on 127.0.0.1:{port}"]))
        else:
            if urllib.parse.urlsplit(url).scheme not in ("ws", "wss"):
                raise InputError(f"--router needs a ws:// or wss:// URL, not {without_credentials(url)}")
            self.peer = Peer.from_env(os.environ, url)
            self.description = f"Crossbar router at {without_credentials(url)} (realm {self.peer.realm})"

    def _start_router(self, crossbar: str, port: int, ticket: str) -> str:
        """Start Crossbar (stopped through the stack); its version as its log gives it."""
        cbdir = self.work_dir / ".crossbar"
        cbdir.mkdir(parents=True, exist_ok=True)
        (cbdir / "config.json").write_text(json.dumps(router_config(port), indent=2), encoding="utf-8")
        log = fresh_log(self.work_dir / "crossbar.log")
        started = logged(log, ROUTER_STARTED)
        self.router = ReadyExecutor(
            [crossbar, "start", "--cbdir", str(cbdir)],
            ready=lambda: started() and self._answers(),
            envvars={"ADVISOR_BENCH_TICKET": ticket},
            cwd=str(cbdir),
            stop_signal=signal.SIGINT,  # Crossbar exits 1 after a clean SIGTERM shutdown, 0 after SIGINT
            **log_to(self.stack, log),
        )
        self.stack.callback(stop, self.router)
        self._start(self.router, "the Crossbar router", log)
        return crossbar_version(log)

    def _answers(self) -> bool:
        try:
            return handshake_status(self.peer.url, ALIVE_TIMEOUT).startswith("HTTP/1.1 101")
        except OSError:
            return False

    def _start(self, executor: ReadyExecutor, what: str, log: Path, failed: type[Exception] = EngineMissing) -> None:
        from mirakuru.exceptions import ExecutorError

        try:
            executor.start()
        except (ExecutorError, OSError) as exc:
            stop(executor)  # mirakuru leaves a process that was not ready in time running
            raise failed(f"{what} did not start ({exc}); last lines of {log}:\n{tail(log)}") from exc
        finally:
            if executor.process is not None:
                self.pids.append(executor.process.pid)

    def alive(self) -> str | None:
        """None when the router answers a WAMP WebSocket handshake, else why not."""
        if self.router is not None and not self.router.running():
            return "the local Crossbar router has exited"
        try:
            status = handshake_status(self.peer.url, ALIVE_TIMEOUT)
        except OSError as exc:
            return f"the router at {without_credentials(self.peer.url)} does not answer ({exc})"
        if status.startswith("HTTP/1.1 101"):
            return None
        return f"the router at {without_credentials(self.peer.url)} refused a WAMP WebSocket ({status or 'no answer'})"

    def start_peer(self, args: list[str], ready: str, timeout: float) -> PeerProcess:
        """`python -m advisor.bench.wamp_peers ARGS`, ready once `ready` is in its log."""
        self._count += 1
        log = fresh_log(self.work_dir / f"wamp-{args[0]}-{self._count}.log")
        package_root = str(Path(__file__).resolve().parents[2])
        pythonpath = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        executor = ReadyExecutor(
            [sys.executable, "-m", PEER_MODULE, *args, "--prefix", self.prefix],
            ready=logged(log, ready),
            envvars={**self.peer.env(), "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"},
            timeout=max(1.0, min(START_TIMEOUT, timeout)),
            **log_to(self.stack, log),
        )
        self.stack.callback(stop, executor)  # also on Ctrl-C while an experiment runs in another thread
        self._start(executor, f"the WAMP {args[0]}", log, Unexpected)
        return PeerProcess(executor, log)

    def uri(self, name: str) -> str:
        """This run's URI for `name`: bench.<run id>.echo, .slow, .event.N."""
        return f"{self.prefix}.{name}"

    def echo_callee(self, timeout: float) -> None:
        """The callee of bench.echo, shared by the experiments that only time calls."""
        if self._callee is None or not self._callee.executor.running():
            self._callee = self.start_peer(["callee", "--procedure", "echo"], "callee ready", timeout)


def crossbar_version(log: Path) -> str:
    """ "v26.10.1" from Crossbar's start-up banner in its log, or "" when it has none."""
    found = re.search(r"Crossbar\.io (v\d[\w.]*)", log.read_text(encoding="utf-8", errors="replace"))
    return found.group(1) if found else ""


# --- running one experiment ----------------------------------------------------------------


def observe(engine: WampEngine, settings: Settings, work: Callable[[Clock], Awaitable[Observation]]) -> Observation:
    """`work`'s observation within settings.deadline; TIMEOUT or ERROR (never an exception) when not."""
    reason = engine.alive()
    if reason:  # a dead router is reported at once, not waited on until the deadline
        return Observation(ENGINE, ERROR, "", detail=reason)
    clock = Clock(settings.deadline)

    async def bounded() -> Observation:
        return await asyncio.wait_for(work(clock), settings.deadline)

    try:
        return asyncio.run(bounded())
    except Exception as exc:  # an engine fault is reported, never raised (the runner goes on with the others)
        if isinstance(exc, TimeoutError) or clock.over:  # a wait cut short by the deadline failed too
            detail = f"not finished within its deadline of {settings.deadline:g} s"
            return Observation(ENGINE, TIMEOUT, "", detail=with_reason(engine, detail))
        return Observation(ENGINE, ERROR, "", detail=with_reason(engine, plain(exc)))


def plain(exc: Exception) -> str:
    """What went wrong in one line: a WAMP error's URI and message rather than Autobahn's repr."""
    from autobahn.wamp.exception import ApplicationError

    if isinstance(exc, ApplicationError):
        return f"{exc.error}: {exc.args[0]}" if exc.args else str(exc.error)
    return str(exc) if isinstance(exc, Unexpected) else f"{type(exc).__name__}: {exc}"


def with_reason(engine: WampEngine, detail: str) -> str:
    reason = engine.alive()
    return f"{reason}; {detail}" if reason else detail


@asynccontextmanager
async def session(engine: WampEngine, clock: Clock) -> AsyncIterator[Any]:
    """A joined caller/publisher session in this process, left and closed afterwards."""
    from advisor.bench.wamp_peers import join

    joined, transport = await join(engine.peer, clock.left(JOIN_TIMEOUT))
    try:
        yield joined
    finally:
        if joined.is_attached():
            joined.leave()
        transport.close()


async def wait_for_lines(
    peer: PeerProcess, prefix: str, count: int, timeout: float, done: Callable[[], bool] = lambda: False
) -> list[str]:
    """Lines of `peer`'s log starting with `prefix`: once there are `count`, or what there is once
    `timeout` has passed, the peer has exited or `done()` is true (a call that failed meanwhile)."""
    end = time.monotonic() + timeout
    while True:
        over = time.monotonic() >= end or not peer.executor.running() or done()
        lines = peer.lines(prefix)  # read after the checks: a peer's last lines still count
        if len(lines) >= count or over:
            return lines
        await asyncio.sleep(0.002)


async def start_peer(engine: WampEngine, clock: Clock, args: list[str], ready: str) -> PeerProcess:
    """A peer started off the event loop (mirakuru waits by sleeping)."""
    return await asyncio.to_thread(engine.start_peer, args, ready, clock.left())


async def stop_peer(peer: PeerProcess) -> None:
    await asyncio.to_thread(stop, peer.executor)


async def watch_for_call(callee: PeerProcess, settings: Settings, clock: Clock) -> list[str]:
    """The calls a fresh slow callee was handed within the grace period (none is the expected news).

    "Nothing came" only counts when the callee was there to receive it the whole time.
    """
    from advisor.bench.wamp_peers import SLOW_STARTED

    if clock.left() < grace(settings):  # a watch the deadline cut short would claim too much
        raise TimeoutError
    lines = await wait_for_lines(callee, SLOW_STARTED, 1, grace(settings))
    if not lines and not callee.executor.running():
        raise Unexpected("the callee watching for a kept or repeated call exited before the watch ended")
    return lines


def grace(settings: Settings) -> float:
    """How long to watch for something that should not happen (a kept or repeated call)."""
    return 1.0 if settings.quick else 3.0


# --- the experiments -----------------------------------------------------------------------


def round_trip(engine: WampEngine, settings: Settings) -> Observation:
    """`settings.calls` calls of bench.echo, one at a time, after warm-ups: p50 and p99."""

    async def work(clock: Clock) -> Observation:
        await asyncio.to_thread(engine.echo_callee, clock.left())
        samples: list[float] = []
        async with session(engine, clock) as caller:
            for i in range(WARM_UPS):
                await caller.call(engine.uri("echo"), i)
            for i in range(settings.calls):
                start = time.perf_counter()
                answer = await caller.call(engine.uri("echo"), i)
                samples.append(time.perf_counter() - start)
                if answer != i:
                    raise Unexpected(f"bench.echo({i}) answered {answer!r}")
        metrics = latency_metrics(samples)
        outcome = (
            f"{len(samples)} calls, one at a time, each answered with its own argument: "
            f"p50 {metrics['p50_ms']:.2f} ms, p99 {metrics['p99_ms']:.2f} ms"
        )
        return Observation(ENGINE, OK, outcome, metrics)

    return observe(engine, settings, work)


def throughput(engine: WampEngine, settings: Settings) -> Observation:
    """`settings.burst` calls of bench.echo in flight together: calls per second."""

    async def work(clock: Clock) -> Observation:
        await asyncio.to_thread(engine.echo_callee, clock.left())
        async with session(engine, clock) as caller:
            for i in range(WARM_UPS):
                await caller.call(engine.uri("echo"), i)
            start = time.perf_counter()
            answers = await asyncio.gather(*(caller.call(engine.uri("echo"), i) for i in range(settings.burst)))
            seconds = time.perf_counter() - start
        right = sum(answer == i for i, answer in enumerate(answers))
        per_second = round(settings.burst / seconds, 1)  # the outcome shows the figure the metrics hold
        metrics = {
            "count": settings.burst,
            "answered": right,
            "seconds": round(seconds, 4),
            "per_second": per_second,
        }
        outcome = (
            f"{settings.burst} calls sent at once, {right} answered with their own argument, "
            f"in {seconds:.2f} s: {per_second:.0f} calls per second"
        )
        return Observation(ENGINE, OK, outcome, metrics)

    return observe(engine, settings, work)


def fan_out(engine: WampEngine, settings: Settings) -> Observation:
    """One event to N subscriber sessions for each N: ms until the last of them had it (median of rounds).

    All sessions live in one subscriber process, each on its own WebSocket; an event on
    bench.event.N goes to N of them. The time runs from just before publish (time.time()
    here) to the latest time.time() a receiving session logged in its handler: the router's
    dispatch, both WebSocket hops and the subscriber's decoding; not this process reading
    the log.
    """
    from advisor.bench.wamp_peers import EVENT, SUBSCRIBER_READY

    rounds = 5 if settings.quick else 20
    top = max(settings.fanout)

    async def work(clock: Clock) -> Observation:
        fanout = ",".join(str(n) for n in settings.fanout)
        args = ["subscriber", "--sessions", str(top), "--fanout", fanout]
        subscriber = await start_peer(engine, clock, args, f"{SUBSCRIBER_READY} {top}")
        try:
            async with session(engine, clock) as publisher:
                by_n, short = {}, {}
                for n in settings.fanout:
                    topic = engine.uri(f"event.{n}")
                    times, received = await publish_rounds(publisher, subscriber, topic, n, rounds, clock, EVENT)
                    by_n[str(n)] = round(statistics.median(times) * 1000, 3) if times else None
                    if received < n:
                        short[n] = received
        finally:
            await stop_peer(subscriber)
        return Observation(
            ENGINE,
            OK,
            fan_out_outcome(by_n, short, rounds),
            {"by_n": by_n, "rounds": rounds, "subscriber_processes": 1},
        )

    return observe(engine, settings, work)


async def publish_rounds(
    publisher: Any, subscriber: PeerProcess, topic: str, n: int, rounds: int, clock: Clock, event: str
) -> tuple[list[float], int]:
    """Seconds until the last of n sessions had each event (a warm-up first), and the fewest that had one."""
    from autobahn.wamp.types import PublishOptions

    times: list[float] = []
    fewest = n
    for round_ in ["warm-up", *range(rounds)]:
        seq = f"{n}-{round_}"
        sent = time.time()
        await publisher.publish(topic, seq, options=PublishOptions(acknowledge=True))  # type: ignore[no-untyped-call]  # untyped
        lines = await wait_for_lines(subscriber, f"{event} {seq} ", n, clock.left(5.0))
        fewest = min(fewest, len(lines))
        if round_ != "warm-up" and lines:
            times.append(max(float(line.split()[3]) for line in lines) - sent)
    return times, fewest


def fan_out_outcome(by_n: dict[str, float | None], short: dict[int, int], rounds: int) -> str:
    ns = ", ".join(by_n)
    figures = ", ".join(f"{ms:.2f} ms" if ms is not None else "never" for ms in by_n.values())
    text = (
        f"one event to N = {ns} subscriber sessions (each its own WebSocket, all in one subscriber process): "
        f"the last had it after {figures} (median of {rounds} events)"
    )
    if short:
        missed = "; ".join(f"at N = {n} only {got} had one event" for n, got in short.items())
        return f"{text}; {missed}"
    return f"{text}; every session had every event"


def absent_consumer(engine: WampEngine, settings: Settings, with_callee: bool = False) -> Observation:
    """Call bench.slow while no callee has it registered (or, with_callee, while one has)."""
    from autobahn.wamp.exception import ApplicationError

    from advisor.bench.wamp_peers import CALLEE_READY

    slow_callee = ["callee", "--procedure", "slow", "--slow-seconds", "0"]

    async def work(clock: Clock) -> Observation:
        callee = await start_peer(engine, clock, slow_callee, CALLEE_READY) if with_callee else None
        try:
            async with session(engine, clock) as caller:
                start = time.perf_counter()
                try:
                    await caller.call(engine.uri("slow"), "absent")
                    error = None
                except ApplicationError as exc:
                    error = exc.error
                ms = (time.perf_counter() - start) * 1000
        finally:
            if callee is not None:
                await stop_peer(callee)
        metrics: dict[str, Any] = {"ms": round(ms, 3), "error": error, "callee_present": with_callee}
        if error is None:
            return Observation(ENGINE, OK, f"answered after {ms:.1f} ms: a callee had bench.slow registered", metrics)
        # Was the call kept for later? A callee that registers now would be handed it.
        later = await start_peer(engine, clock, slow_callee, CALLEE_READY)
        try:
            ran = await watch_for_call(later, settings, clock)
        finally:
            await stop_peer(later)
        metrics["ran_later"] = bool(ran)
        return Observation(ENGINE, OK, absent_outcome(error, ms, bool(ran), grace(settings)), metrics)

    return observe(engine, settings, work)


def absent_outcome(error: str, ms: float, ran_later: bool, waited: float) -> str:
    when = "at once" if ms < AT_ONCE_MS else "only"
    if ran_later:
        return f"failed {when} ({error}) after {ms:.1f} ms, yet the call ran when a callee registered later"
    return (
        f"failed {when} ({error}) after {ms:.1f} ms; nothing was kept: "
        f"a callee registered afterwards got no call within {waited:g} s"
    )


def crashed_consumer(engine: WampEngine, settings: Settings) -> Observation:
    """Kill (SIGKILL) the callee while it runs bench.slow: what does the caller get, and does it run again?"""
    from autobahn.wamp.exception import ApplicationError

    from advisor.bench.wamp_peers import CALLEE_READY, SLOW_STARTED

    async def work(clock: Clock) -> Observation:
        # Slow enough that the call is still running when the callee is killed.
        args = ["callee", "--procedure", "slow", "--slow-seconds", str(settings.deadline * 2)]
        callee = await start_peer(engine, clock, args, CALLEE_READY)
        try:
            async with session(engine, clock) as caller:
                call = asyncio.ensure_future(caller.call(engine.uri("slow"), "crash"))
                if not await wait_for_lines(callee, SLOW_STARTED, 1, clock.left(), call.done):
                    await asyncio.wait_for(call, clock.left())  # raises what failed it, if it did
                    raise Unexpected("the callee never started bench.slow")
                killed = time.perf_counter()
                await asyncio.to_thread(kill, callee.executor)
                try:
                    await call
                    error = None
                except ApplicationError as exc:
                    error = exc.error
                ms = (time.perf_counter() - killed) * 1000
        finally:
            await stop_peer(callee)  # when something failed before the kill
        again = await start_peer(engine, clock, ["callee", "--procedure", "slow", "--slow-seconds", "0"], CALLEE_READY)
        try:
            rerun = await watch_for_call(again, settings, clock)
        finally:
            await stop_peer(again)
        metrics = {"ms": round(ms, 3), "error": error, "attempts": 1 + len(rerun)}
        return Observation(ENGINE, OK, crashed_outcome(error, ms, bool(rerun), grace(settings)), metrics)

    return observe(engine, settings, work)


def crashed_outcome(error: str | None, ms: float, rerun: bool, waited: float) -> str:
    got = f"the caller got {error}" if error else "the caller got an answer"
    again = (
        "the call ran again on a new callee"
        if rerun
        else f"the call was not run again (a new callee got nothing within {waited:g} s)"
    )
    return f"{got} {ms:.0f} ms after its callee was killed; {again}"


def schedule(engine: WampEngine, settings: Settings) -> Observation:
    """WAMP and Crossbar have no scheduler; the rule that says so gives the sources."""
    from advisor import advice

    sources = advice.load_ruleset().find("wamp-has-no-scheduler").sources
    outcome = "WAMP and Crossbar have no scheduler: periodic work needs cron, a timer or a component's own loop"
    return Observation(ENGINE, NOT_AVAILABLE, outcome, sources=tuple(sources))


EXPERIMENTS: dict[str, Callable[[WampEngine, Settings], Observation]] = {
    "round-trip": round_trip,
    "throughput": throughput,
    "fan-out": fan_out,
    "absent-consumer": absent_consumer,
    "crashed-consumer": crashed_consumer,
    "schedule": schedule,
}
