"""The Celery side of `advisor bench`: a broker, workers and beat started for real, and the six experiments.

By default CeleryEngine starts its own redis-server on a free 127.0.0.1 port (no persistence)
and uses it as broker and result backend. With a URL it uses the user's broker instead:
redis://, rediss:// (result backend: the same Redis) or amqp:// (result backend: rpc://). If
the URL carries no password, ADVISOR_BENCH_BROKER_PASSWORD supplies it; the password is
never printed (the report shows the URL without credentials). Workers and beat always run on
this machine (`celery -A advisor.bench.celery_tasks`), and every process started here is
stopped by pid through the ExitStack the engine is given, also on Ctrl-C.

Each experiment function takes the engine and the Settings, observes what happened and
returns an Observation; a broker fault gives status ERROR with a plain detail, never an
exception, and every wait ends by the experiment's deadline.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import itertools
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import advisor
from advisor.bench.model import ERROR, OK, EngineMissing, Observation, Settings
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

ENGINE = "celery"
PASSWORD_VARIABLE = "ADVISOR_BENCH_BROKER_PASSWORD"
SCHEMES = ("redis", "rediss", "amqp", "amqps")
TASKS_MODULE = "advisor.bench.celery_tasks"
EXTRA = "pip install 'advisor[engines]'"
WARM_UPS = 5
VISIBILITY_TIMEOUT = 2  # seconds: Redis redelivers an unacknowledged task after this (crashed consumer)
SLOW_TASK_SECONDS = 60.0  # the crashed-consumer task's first run; its worker is killed long before
REDELIVERY_WAIT = 5.0  # seconds a new worker gets to run a killed task again before it counts as lost
BEAT_INTERVAL = 1.0
PING_TIMEOUT = 2.0


class CeleryEngine:
    """A broker (started here, or the user's), and the workers and beat the experiments start against it."""

    def __init__(
        self, stack: contextlib.ExitStack, work_dir: Path, url: str | None = None, executable: str | None = None
    ) -> None:
        require_extra()
        self.stack = stack
        self.work_dir = work_dir
        self.marks = work_dir / "celery-marks"
        self.marks.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(4)
        self.shared_queue = f"advisor-bench-{self.token}"
        self._executors: list[Any] = []
        self._pids: list[int] = []
        self._closed = False
        self._shared: str | None = None
        self._lock = threading.Lock()
        self.server: Any = None  # the local redis-server's executor; None for the user's broker
        stack.callback(self._stop_all)  # registered first, so it runs last: after the experiments' own stops
        if url is None:
            self.url, self.description = self._start_redis(redis_server(executable))
        else:
            self.url, self.description = broker_url(url), without_credentials(url)
        self.backend = "rpc://" if urlsplit(self.url).scheme.startswith("amqp") else self.url
        self.redis = self.backend != "rpc://"

    def _start_redis(self, binary: str) -> tuple[str, str]:
        """A redis-server on a free loopback port, no persistence; ready when it answers PING."""
        from mirakuru.exceptions import ExecutorError

        port = free_port()
        log = self.work_dir / "redis-server.log"
        url = f"redis://127.0.0.1:{port}/0"
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        server = ReadyExecutor(
            command, lambda: redis_ping(url) is None, cwd=str(self.work_dir),
            **log_to(self.stack, log),
        )  # fmt: skip
        try:
            self.server = self._start(server)
        except ExecutorError as exc:  # it exited, or never answered: say so, with where its log is
            raise EngineMissing(f"redis-server ({binary}) did not start: {exc}; its log: {log}") from None
        return url, f"local redis-server {redis_version(url)} on 127.0.0.1:{port}"

    def _start(self, executor: Any) -> Any:
        """Start `executor` (until ready), recorded so the engine's stack stops it whatever happens."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the benchmark is stopping: no new process")
            self._executors.append(executor)
        try:
            executor.start()
        finally:
            if executor.process is not None:  # mirakuru forgets it once stopped; the tests still ask
                self._pids.append(executor.process.pid)
        if self._closed:  # the engine stopped everything while this one was starting (Ctrl-C in another thread)
            stop(executor)
            raise RuntimeError("the benchmark is stopping: no new process")
        return executor

    def _stop_all(self) -> None:
        with self._lock:
            self._closed = True
            executors = list(reversed(self._executors))
        for executor in executors:
            with contextlib.suppress(Exception):  # one that cannot stop must not keep the others running
                stop(executor)

    def pids(self) -> list[int]:
        """The pids of every process this engine started (the tests check none is left)."""
        return list(self._pids)

    def alive(self) -> str | None:
        """None when the broker answers, else why not (in plain words, without credentials)."""
        if self.redis:
            problem = redis_ping(self.url)
        else:
            problem = amqp_ping(self.url)
        return None if problem is None else f"the broker ({self.description}) does not answer: {problem}"

    def config(self, **options: Any) -> dict[str, Any]:
        """ADVISOR_BENCH_CONFIG for a process (and the app of this one), with `options` added."""
        return {"broker": self.url, "backend": self.backend, "dir": str(self.marks), **options}

    @contextlib.contextmanager
    def app(self, **options: Any) -> Iterator[Any]:
        """A Celery app on this broker, for sending tasks and reading results; closed afterwards."""
        from advisor.bench.celery_tasks import make_app

        app = make_app(self.config(**options))
        quiet_unsubscribe(app)
        try:
            yield app
        finally:
            # Results left in reference cycles unsubscribe from the backend when collected: while it still runs.
            gc.collect()
            app.close()

    def worker(
        self, stack: contextlib.ExitStack, clock: Clock, queue: str, pool: str = "solo", concurrency: int = 1,
        **options: Any,
    ) -> Any:  # fmt: skip
        """Start a worker consuming `queue` (ready once it consumes); `stack` stops it, or at the latest the engine."""
        name = f"w{secrets.token_hex(3)}"
        command = [
            sys.executable, "-m", "celery", "-A", TASKS_MODULE, "worker", "--pool", pool, "-c", str(concurrency),
            "-n", f"{name}@%h", "-Q", queue, "-l", "warning", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
        ]  # fmt: skip
        executor = self._executor(command, self._ready(name), clock, f"worker-{name}", options)
        self._start(executor)
        stack.callback(stop, executor)
        return executor

    def beat(self, stack: contextlib.ExitStack, clock: Clock, **options: Any) -> Any:
        """Start beat with its schedule file in the work directory; ready once it logs that it starts."""

        name = f"beat-{secrets.token_hex(3)}"
        log = self.work_dir / f"{name}.log"
        schedule = str(self.work_dir / f"{name}-schedule")
        command = [sys.executable, "-m", "celery", "-A", TASKS_MODULE, "beat", "-l", "info", "--schedule", schedule]
        executor = self._executor(command, logged(log, "beat: Starting..."), clock, name, options)
        self._start(executor)
        stack.callback(stop, executor)
        return executor

    def _executor(
        self, command: list[str], ready: Callable[[], bool], clock: Clock, name: str, options: dict[str, Any]
    ) -> Any:
        from advisor.bench.celery_tasks import CONFIG_VARIABLE

        # The workers import advisor from wherever this process does (a checkout or site-packages).
        python_path = os.pathsep.join(
            filter(None, [str(Path(advisor.__file__).parents[1]), os.environ.get("PYTHONPATH")])
        )
        # SIGQUIT, Celery's cold shutdown: a benchmark process has nothing to finish, and a warm one
        # waits for the broker connection's poll (about ten seconds for a worker on a broadcast queue).
        return ReadyExecutor(
            command, ready, timeout=clock.left(START_TIMEOUT), cwd=str(self.work_dir), stop_signal=signal.SIGQUIT,
            envvars={CONFIG_VARIABLE: json.dumps(self.config(**options)), "PYTHONPATH": python_path},
            **log_to(self.stack, self.work_dir / f"{name}.log"),
        )  # fmt: skip

    def _ready(self, name: str) -> Callable[[], bool]:
        """A worker's readiness: the file its worker_ready signal wrote (celery_tasks.announce_ready)."""
        return lambda: any(self.marks.glob(f"{name}@*.ready"))

    def shared_worker(self, clock: Clock) -> str:
        """The prefork worker (one process per CPU) that round trip, throughput and schedule share; its queue."""
        if self._shared is None:
            self.worker(self.stack, clock, self.shared_queue, pool="prefork", concurrency=cpus())
            self._shared = self.shared_queue
        return self._shared

    def queued(self, app: Any, queue: str) -> int:
        """How many messages wait in `queue`, as the broker counts them."""
        with app.connection_for_write() as connection:
            try:
                return int(connection.default_channel.queue_declare(queue=queue, passive=True).message_count)
            except Exception:  # the broker drops an empty queue (Redis): nothing waits
                return 0

    def forget(self, app: Any, queue: str) -> None:
        """Delete an experiment's own queue on the user's broker (Redis drops empty ones anyway)."""
        with contextlib.suppress(Exception), app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue=queue)

    def redact(self, text: str) -> str:
        """`text` on one line, without the broker's password should an error message quote the URL."""
        password = urlsplit(self.url).password
        return " ".join((text.replace(password, "***") if password else text).split())


def quiet_unsubscribe(app: Any) -> None:
    """A result collected after the broker died cannot unsubscribe from it; that is no error worth printing.

    Celery's AsyncResult unsubscribes in __del__, where an exception becomes an "Exception ignored" on stderr.
    """
    consumer: Any = getattr(app.backend, "result_consumer", None)
    cancel = getattr(consumer, "cancel_for", None)
    if cancel is None:
        return

    def cancel_quietly(task_id: str) -> None:
        with contextlib.suppress(Exception):
            cancel(task_id)

    consumer.cancel_for = cancel_quietly


def require_extra() -> None:
    """EngineMissing unless the `advisor[engines]` extra (celery with redis, mirakuru, psutil) is installed."""
    # celery and kombu replace their module objects (lazy attributes): find_spec cannot look at those once imported.
    names = ("celery", "kombu", "redis", "mirakuru", "psutil")
    missing = [name for name in names if name not in sys.modules and not importlib.util.find_spec(name)]
    if missing:
        raise EngineMissing(f"the Celery side of the benchmark needs {', '.join(missing)}: {EXTRA}")


def redis_server(executable: str | None) -> str:
    """The redis-server to run: `executable`, else the one on PATH; EngineMissing saying how to get one."""
    if executable is not None:
        if os.path.isfile(executable) and os.access(executable, os.X_OK):
            return executable
        raise EngineMissing(f"redis-server not found at {executable}: install it or give the path of redis-server")
    found = shutil.which("redis-server")
    if found is None:
        raise EngineMissing(
            "redis-server not found on PATH: install it (apt-get install redis-server, brew install redis) "
            "or pass --broker URL to use an existing Redis or RabbitMQ"
        )
    return found


def broker_url(url: str) -> str:
    """The user's broker URL, with the password from ADVISOR_BENCH_BROKER_PASSWORD when it has none."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        # A wrong scheme is the user's input, as for --router: exit 2, not a missing engine.
        raise InputError(
            f"--broker {without_credentials(url)}: the URL must start with one of "
            f"{', '.join(s + '://' for s in SCHEMES)}"
        )
    password = os.environ.get(PASSWORD_VARIABLE)
    if parts.password is not None or not password:
        return url
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{parts.netloc.rpartition('@')[2]}"))


def redis_ping(url: str) -> str | None:
    """None when the Redis at `url` answers PING within two seconds, else why not."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=PING_TIMEOUT, socket_timeout=PING_TIMEOUT)
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()


def redis_version(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=PING_TIMEOUT)
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]  # redis-py types it for asyncio too
        return str(info.get("redis_version", "?"))
    finally:
        client.close()


def amqp_ping(url: str) -> str | None:
    """None when the AMQP broker at `url` accepts a connection within two seconds, else why not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=PING_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1, timeout=PING_TIMEOUT)
        return None
    except Exception as exc:  # kombu raises the transport's own errors
        return str(exc) or type(exc).__name__


def cpus() -> int:
    return os.cpu_count() or 1


def observed(run: Callable[..., Observation]) -> Callable[..., Observation]:
    """An experiment that answers ERROR (with a plain detail) for a dead broker or a failure, never raises."""

    def experiment(engine: CeleryEngine, settings: Settings, **options: Any) -> Observation:
        problem = engine.alive()
        if problem is not None:
            return Observation(ENGINE, ERROR, "", detail=problem)
        try:
            return run(engine, settings, **options)
        except Exception as exc:  # an engine fault is reported, not raised (issue 14, item 4)
            detail = engine.redact(f"{type(exc).__name__}: {exc}")
            problem = engine.alive()
            return Observation(ENGINE, ERROR, "", detail=f"{problem}; {detail}" if problem else detail)

    experiment.__name__ = run.__name__
    experiment.__doc__ = run.__doc__
    return experiment


@observed
def round_trip(engine: CeleryEngine, settings: Settings) -> Observation:
    """`echo.delay(i).get()`, one after the other: a task and its result through the broker and backend."""

    clock = Clock(settings.deadline)
    queue = engine.shared_worker(clock)
    samples: list[float] = []
    with engine.app() as app:
        for value in range(WARM_UPS + settings.calls):
            started = time.perf_counter()
            answer = app.send_task("advisor.bench.echo", [value], queue=queue).get(timeout=clock.left())
            if answer != value:
                raise RuntimeError(f"echo({value}) answered {answer!r}")
            if value >= WARM_UPS:
                samples.append(time.perf_counter() - started)
    metrics = {**latency_metrics(samples), "pool": "prefork", "concurrency": cpus()}
    outcome = f"{len(samples)} tasks answered one after another: p50 {metrics['p50_ms']} ms, p99 {metrics['p99_ms']} ms"
    return Observation(ENGINE, OK, outcome, metrics)


@observed
def throughput(engine: CeleryEngine, settings: Settings) -> Observation:
    """`settings.burst` tasks sent at once to one prefork worker; tasks per second until the last result."""
    clock = Clock(settings.deadline)
    queue = engine.shared_worker(clock)
    with engine.app() as app:
        started = time.perf_counter()
        results = [app.send_task("advisor.bench.echo", [value], queue=queue) for value in range(settings.burst)]
        answers = [result.get(timeout=clock.left()) for result in results]
        seconds = time.perf_counter() - started
    if answers != list(range(settings.burst)):
        raise RuntimeError("some tasks answered with another task's value")
    per_second = round(settings.burst / seconds, 1)
    metrics: dict[str, Any] = {"per_second": per_second, "tasks": settings.burst, "seconds": round(seconds, 3)}
    metrics |= {"pool": "prefork", "concurrency": cpus()}
    outcome = (
        f"{settings.burst} tasks done in {seconds:.2f} s: {per_second:g} tasks/s "
        f"(one prefork worker, {cpus()} processes)"
    )
    return Observation(ENGINE, OK, outcome, metrics)


@observed
def fan_out(engine: CeleryEngine, settings: Settings) -> Observation:
    """One task on a broadcast queue (kombu Broadcast) to N workers: ms until the last one ran it, for each N."""
    # https://docs.celeryq.dev/en/stable/userguide/routing.html#broadcast
    from advisor.bench.celery_tasks import broadcast_queue

    clock = Clock(settings.deadline)
    exchange = f"advisor-bench-broadcast-{engine.token}"
    by_n: dict[str, float] = {}
    with contextlib.ExitStack() as stack, engine.app(broadcast=exchange) as app:
        workers: list[Any] = []
        for count in sorted(settings.fanout):
            start_workers(engine, stack, clock, exchange, count - len(workers), workers)
            broadcast = broadcast_queue(exchange)
            # A new worker's subscription may lag its readiness: wait until every one hears a warm-up.
            reach(app, engine, broadcast, count, clock, warm_up=True)
            by_n[str(count)] = reach(app, engine, broadcast, count, clock, warm_up=False)
    figures = ", ".join(f"{ms:g} ms for {count}" for count, ms in by_n.items())
    outcome = f"every worker on the broadcast queue ran the one task; the last had it after {figures}"
    return Observation(ENGINE, OK, outcome, {"by_n": by_n, "way": "broadcast queue (kombu Broadcast)"})


def start_workers(
    engine: CeleryEngine, stack: contextlib.ExitStack, clock: Clock, exchange: str, count: int, workers: list[Any]
) -> None:
    """Start `count` more workers on the broadcast queue, side by side (each start is mostly waiting)."""
    failures: list[BaseException] = []

    def start() -> None:
        try:
            workers.append(engine.worker(stack, clock, exchange, broadcast=exchange))
        except BaseException as exc:  # reported by the caller's thread
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def reach(app: Any, engine: CeleryEngine, broadcast: Any, count: int, clock: Clock, warm_up: bool) -> float:
    """Broadcast one task; milliseconds until `count` workers ran it (a warm-up is sent again until all hear it)."""
    while True:
        token = secrets.token_hex(4)
        sent = time.time()
        # The fanout exchange itself, declared by the sender: by name alone kombu would route it as direct.
        exchange = broadcast.exchange
        app.send_task(
            "advisor.bench.stamp", [token], exchange=exchange, routing_key=broadcast.routing_key, declare=[exchange]
        )
        heard = engine_poll(partial(stamps, engine, token, count), clock.left(1.0 if warm_up else None))
        if heard:
            return round((max(heard) - sent) * 1000, 3)  # type: ignore[no-any-return]  # poll gives what stamps gave
        if not warm_up or clock.left() <= 0.05:
            raise RuntimeError(f"the broadcast task reached fewer than {count} workers by the deadline")


def stamps(engine: CeleryEngine, token: str, count: int) -> list[float]:
    """When each worker ran broadcast `token`, once `count` distinct workers have; else empty."""
    from advisor.bench.celery_tasks import marks

    first: dict[str, float] = {}
    for node, at in marks(engine.marks, f"stamp-{token}"):
        first.setdefault(node, float(at))
    return list(first.values()) if len(first) >= count else []


def engine_poll(check: Callable[[], Any], timeout: float) -> Any:
    from advisor.bench.processes import poll

    return poll(check, timeout)


@observed
def absent_consumer(engine: CeleryEngine, settings: Settings) -> Observation:
    """A task sent while no worker runs: is it kept, and when does it run once a worker starts?"""
    from advisor.bench.celery_tasks import marks

    clock = Clock(settings.deadline)
    queue = f"advisor-bench-absent-{secrets.token_hex(4)}"
    token = secrets.token_hex(4)
    hold = 1.0 if settings.quick else 3.0
    with contextlib.ExitStack() as stack, engine.app() as app:
        sent = time.time()
        result = app.send_task("advisor.bench.arrive", [token], queue=queue)
        # Nothing consumes the queue: the wait should end by its timeout, with the task still there.
        engine_poll(lambda: result.ready(), clock.left(hold))
        waiting, state = engine.queued(app, queue), result.state
        worker_started = time.time()  # just before its process exists: nothing could consume before this
        engine.worker(stack, clock, queue)
        answer = engine_poll(lambda: result.ready(), clock.left())
        ran = marks(engine.marks, f"arrive-{token}")
        engine.forget(app, queue)
    metrics: dict[str, Any] = {
        "queued_while_absent": waiting,
        "state_while_absent": state,
        "absent_s": round(worker_started - sent, 3),
    }
    if not answer or not ran:
        outcome = f"lost: the task never ran, although a worker ran for {time.time() - worker_started:.1f} s"
        return Observation(ENGINE, OK, outcome, metrics | {"delivered": False})
    ran_at = float(ran[0][-1])
    metrics |= {"delivered": True, "ran_after_worker_start_s": round(ran_at - worker_started, 3)}
    kept = f"{waiting} message in the queue" if waiting else f"result {state}"
    outcome = (
        f"kept the task while no worker ran ({kept} after {metrics['absent_s']:.1f} s); "
        f"it ran {ran_at - worker_started:.1f} s after a worker started"
    )
    return Observation(ENGINE, OK, outcome, metrics)


@observed
def crashed_consumer(engine: CeleryEngine, settings: Settings, acks_late: bool = True) -> Observation:
    """A worker killed (SIGKILL, its whole process group) mid-task; a new one starts: does the task run again?"""
    from advisor.bench.celery_tasks import marks

    clock = Clock(settings.deadline)
    queue = f"advisor-bench-crash-{secrets.token_hex(4)}"
    token = secrets.token_hex(4)
    options: dict[str, Any] = {"acks_late": acks_late, "reject_on_worker_lost": acks_late}
    if engine.redis:
        options["visibility_timeout"] = VISIBILITY_TIMEOUT
    # prefork, as Celery's default: its main process acknowledges (acks_late off) while a child runs the task.
    # The solo pool runs the task inside the consumer loop, so an early acknowledgement waits for the task to end.

    def attempts() -> int:
        return len(marks(engine.marks, f"slow-{token}"))

    with contextlib.ExitStack() as stack, engine.app(**options) as app:
        result = app.send_task("advisor.bench.slow", [token, SLOW_TASK_SECONDS], queue=queue)
        first = engine.worker(stack, clock, queue, pool="prefork", **options)
        if not engine_poll(attempts, clock.left()):
            raise RuntimeError("the task never started on the first worker")
        started = time.monotonic()
        kill(first)  # the whole process group, at once: no warm shutdown, no ack
        killed = time.monotonic()
        if engine.redis:
            # Redis hands an unacknowledged message out again only once its visibility timeout has passed,
            # and a worker restores such messages as it starts.
            engine_poll(lambda: time.monotonic() - started > VISIBILITY_TIMEOUT, clock.left())
        engine.worker(stack, clock, queue, pool="prefork", **options)
        answered = engine_poll(lambda: result.ready(), clock.left(REDELIVERY_WAIT))
        engine.forget(app, queue)
        waited = time.monotonic() - killed
    count = attempts()
    metrics: dict[str, Any] = {
        "acks_late": acks_late,
        "pool": "prefork",
        "attempts": count,
        "redelivered": bool(answered) and count > 1,
    }
    if engine.redis:
        metrics["visibility_timeout_s"] = VISIBILITY_TIMEOUT
    if metrics["redelivered"]:
        metrics["redelivered_after_s"] = round(waited, 3)
        outcome = (
            f"redelivered: the task ran again after its worker was killed (attempts {count}, {waited:.1f} s later)"
        )
        if engine.redis:
            outcome += f"; Redis waits out the visibility timeout, here {VISIBILITY_TIMEOUT} s"
    else:
        outcome = (
            "lost: the task never ran again after its worker was killed "
            f"(attempts {count}; a new worker waited {waited:.1f} s)"
        )
    return Observation(ENGINE, OK, outcome, metrics)


@observed
def schedule(engine: CeleryEngine, settings: Settings) -> Observation:
    """beat sends a task every second for a few seconds; how many ran, how regularly?"""
    from advisor.bench.celery_tasks import marks

    clock = Clock(settings.deadline)
    window = 4.0 if settings.quick else 10.0
    queue = engine.shared_worker(clock)
    token = secrets.token_hex(4)
    expected = int(window / BEAT_INTERVAL)

    def ticks() -> list[float]:
        return [float(fields[-1]) for fields in marks(engine.marks, f"tick-{token}")]

    with contextlib.ExitStack() as stack:
        engine.beat(stack, clock, beat_queue=queue, beat_token=token, beat_interval=BEAT_INTERVAL)
        started = time.monotonic()
        engine_poll(lambda: len(ticks()) >= expected, clock.left(window + 2 * BEAT_INTERVAL))
        elapsed = time.monotonic() - started
    runs = sorted(ticks())
    intervals = [later - earlier for earlier, later in itertools.pairwise(runs)]
    metrics: dict[str, Any] = {"runs": len(runs), "interval_s": BEAT_INTERVAL, "seconds": round(elapsed, 3)}
    if not intervals:
        return Observation(ENGINE, OK, f"beat ran the task {len(runs)} times in {elapsed:.1f} s", metrics)
    mean = statistics.fmean(intervals)
    jitter = max(abs(interval - BEAT_INTERVAL) for interval in intervals) * 1000
    metrics |= {"mean_interval_s": round(mean, 3), "max_jitter_ms": round(jitter, 1)}
    outcome = (
        f"beat ran the task {len(runs)} times in {elapsed:.1f} s, "
        f"every {mean:.2f} s on average (jitter up to {jitter:.0f} ms)"
    )
    return Observation(ENGINE, OK, outcome, metrics)


EXPERIMENTS: dict[str, Callable[[CeleryEngine, Settings], Observation]] = {
    "round-trip": round_trip,
    "throughput": throughput,
    "fan-out": fan_out,
    "absent-consumer": absent_consumer,
    "crashed-consumer": crashed_consumer,
    "schedule": schedule,
}
