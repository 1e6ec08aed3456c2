"""The Celery side of the test infrastructure: redis-server, workers and beat as mirakuru executors.

mirakuru (https://github.com/dbfixtures/mirakuru) starts each process in its own process group,
waits until its readiness check passes (with a deadline) and stops it by pid, together with
whatever it started. This module adds only the checks that say "ready" for each program:
redis-server answers PING with its password (redis-py);
a worker's node answers `app.control.ping`;
beat has logged that it starts.

conftest.py builds the session's fixtures from the factories here:
start_redis, start_worker, start_beat. A test that needs an extra process (a second
worker, a Redis it can restart) asks for a factory; whatever it starts is stopped at the end
of the session, or earlier by the test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import pytest
import redis
from mirakuru import Executor, TCPExecutor
from mirakuru.base import ENV_UUID, SimpleExecutor
from mirakuru.exceptions import ExecutorError

from import_tracker.celery_app import make_app
from import_tracker.settings import Settings

PACKAGE = "import_tracker"
PROJECT_DIR = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.05
TAIL_LINES = 30
WORKER_CONCURRENCY = 2
# A worker's warm shutdown gets this long before mirakuru kills what is left.
STOP_SECONDS = 30


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(log: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log file (empty when there is none yet)."""
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def fail(message: str, log: Path | None = None) -> NoReturn:
    """Fail the test with `message` and the tail of `log`; no traceback of the helpers."""
    if log is not None:
        message = f"{message}; last lines of {log}:\n{tail(log)}"
    raise pytest.fail.Exception(message, pytrace=False) from None


class OwnEnvironment:
    """Mixin for an executor: the child gets exactly `envvars=` (mirakuru would add os.environ).

    The developer's shell (or .env exported into it) must not point a test process elsewhere.
    mirakuru's marker variable stays: it finds the process's children by it.
    """

    _envvars: dict[str, str]
    _uuid: str

    @property
    def envvars(self) -> dict[str, str]:
        return {**self._envvars, ENV_UUID: self._uuid}


class LogFile:
    """Mixin for an executor: stdout and stderr appended to `log`, closed by close_log().

    mirakuru would pipe them, and a pipe nobody reads blocks the process once it is full.
    """

    log: Path
    log_file: IO[bytes]

    def open_log(self, log: Path) -> dict[str, Any]:
        """The executor arguments that send the output to `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        self.log_file = open(log, "ab")  # noqa: SIM115 (open while the executor lives; close_log closes it)
        return {"stdin": subprocess.DEVNULL, "stdout": self.log_file, "stderr": subprocess.STDOUT}

    def close_log(self) -> None:
        self.log_file.close()


def start_or_fail(executor: SimpleExecutor, log: Path) -> None:
    """Start `executor`; if it dies or never gets ready, fail the test with the tail of its log."""
    try:
        executor.start()
    except ExecutorError as exc:
        fail(f"{log.stem} did not start: {exc}", log)


def exit_status(executor: SimpleExecutor) -> int | None:
    """The exit status once the executor's process has ended, else None (also when never started)."""
    return None if executor.process is None else executor.process.poll()


def pid_of(executor: SimpleExecutor) -> int:
    assert executor.process is not None, "not started"
    return int(executor.process.pid)


def _redis_quote(value: str) -> str:
    """A value for redis.conf: double quotes, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RedisServer(OwnEnvironment, LogFile, TCPExecutor):
    """redis-server on 127.0.0.1 with a password; ready when PING with that password answers.

    Its configuration, password included, is a 0600 file in its own directory: the password is
    never on a command line. With `persistent`, every write reaches the append-only file before
    Redis answers (appendfsync always), so a restart on the same port keeps queued and
    unacknowledged messages, as a Redis configured for durable work does.
    """

    def __init__(self, binary: str, directory: Path, port: int, password: str, persistent: bool) -> None:
        self.password = password
        config = directory / "redis.conf"
        config.touch(mode=0o600)
        settings = [
            f"port {port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            'save ""',
            f"appendonly {'yes' if persistent else 'no'}",
            "appendfsync always",
            f"dir {_redis_quote(str(directory))}",
            f"requirepass {_redis_quote(password)}",
        ]
        config.write_text("\n".join(settings) + "\n", encoding="utf-8")
        super().__init__(
            [binary, str(config)], host="127.0.0.1", port=port, cwd=str(directory), timeout=20,
            sleep=POLL_SECONDS, envvars={"PATH": os.defpath}, **self.open_log(directory / "redis.log"),
        )  # fmt: skip

    def after_start_check(self) -> bool:
        client = redis.Redis(host=self.host, port=self.port, password=self.password, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    @property
    def env(self) -> dict[str, str]:
        """The REDIS_* variables that point at this server."""
        return {"REDIS_HOST": self.host, "REDIS_PORT": str(self.port), "REDIS_PASSWORD": self.password, "REDIS_DB": "0"}


def redis_server_binary(env: Mapping[str, str]) -> str:
    """redis-server ($REDIS_SERVER_BIN, else PATH); fails the tests at once saying how to install it."""
    configured = env.get("REDIS_SERVER_BIN")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        fail(f"REDIS_SERVER_BIN={configured!r} is not an executable file: point it at redis-server or unset it")
    found = shutil.which("redis-server", path=env.get("PATH", os.defpath))
    if found is None:
        fail(
            "redis-server not found: install it (apt-get install redis-server, brew install redis, "
            "dnf install redis) or set REDIS_SERVER_BIN"
        )
    return found


@pytest.fixture(scope="session")
def start_redis(
    base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., RedisServer]]:
    """A factory: start_redis(persistent=False) starts a redis-server on a free port with a random password.

    The password includes characters that must be URL-encoded. Every server is stopped by pid
    at the end of the session; a test may stop and start one itself (same port, same data).
    """
    binary = redis_server_binary(base_env)
    servers: list[RedisServer] = []

    def start(persistent: bool = False) -> RedisServer:
        password = secrets.token_urlsafe(18) + "/@:#%[]"
        server = RedisServer(binary, tmp_path_factory.mktemp("redis"), free_port(), password, persistent)
        servers.append(server)
        start_or_fail(server, server.log)
        return server

    yield start
    for server in reversed(servers):
        server.stop()
        server.close_log()


def celery_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", f"{PACKAGE}.celery_app", *args]


def python_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a Celery process: src/ and tests/ (the probe tasks) on PYTHONPATH, unbuffered output."""
    paths = [str(PROJECT_DIR / "src"), str(PROJECT_DIR / "tests"), env.get("PYTHONPATH", "")]
    return {**env, "PYTHONPATH": os.pathsep.join(path for path in paths if path), "PYTHONUNBUFFERED": "1"}


class WorkerProcess(OwnEnvironment, LogFile, Executor):
    """A Celery worker (prefork, WORKER_CONCURRENCY processes) named <node>@<host>.

    Ready when its node answers a control ping: it consumes from the broker then.
    --without-mingle/--without-gossip: test workers need not sync state with each other, and
    mingle would wait for replies at every start.
    """

    def __init__(self, env: Mapping[str, str], log_dir: Path, node: str, extra_args: Sequence[str] = ()) -> None:
        self.node = node
        self.hostname = f"{node}@{socket.gethostname()}"
        argv = celery_argv(
            "worker", "-l", "info", "-c", str(WORKER_CONCURRENCY), "-n", self.hostname,
            "--without-mingle", "--without-gossip",
            # The test-only tasks of tests/durable_probe.py, which the fault tests kill mid-task.
            "--include", "durable_probe",
            *extra_args,
        )  # fmt: skip
        super().__init__(
            argv, cwd=str(PROJECT_DIR), timeout=90, sleep=POLL_SECONDS, envvars=python_env(env),
            **self.open_log(log_dir / f"{node}.log"),
        )  # fmt: skip
        self._app = make_app(Settings.from_env(env), set_as_current=False)

    def pre_start_check(self) -> bool:
        return False  # its node name is new: no worker of it can be running already

    def after_start_check(self) -> bool:
        from kombu.exceptions import OperationalError

        try:
            replies = self._app.control.ping(destination=[self.hostname], timeout=0.5)
        except OperationalError:  # the broker is not reachable (yet): poll again until the deadline
            return False
        return any(self.hostname in reply for reply in replies)

    def stop(self, stop_signal: int | None = None, expected_returncode: int | None = None) -> WorkerProcess:
        """Warm shutdown: SIGTERM to the main process only, then mirakuru ends whatever is left.

        Not to the whole process group, as mirakuru's stop() does first: the pool processes
        reset SIGTERM to its default action, so they would die in the middle of their tasks.
        """
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_SECONDS
            while self.process.poll() is None and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
        super().stop(stop_signal, expected_returncode)
        return self

    def close(self) -> None:
        """After the last stop: close the log and the app that pings the worker."""
        self._app.close()
        self.close_log()


@pytest.fixture(scope="session")
def start_worker(log_dir: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """A factory: start_worker(env, name="worker", extra_args=()) starts a worker, stopped at the end of the session."""
    workers: list[WorkerProcess] = []

    def start(env: Mapping[str, str], name: str = "worker", extra_args: Sequence[str] = ()) -> WorkerProcess:
        worker = WorkerProcess(env, log_dir, f"{name}-{os.urandom(4).hex()}", extra_args)
        workers.append(worker)
        start_or_fail(worker, worker.log)
        return worker

    yield start
    for worker in reversed(workers):
        worker.stop()
        worker.close()


class BeatProcess(OwnEnvironment, LogFile, Executor):
    """Celery beat with its schedule file in its own directory (nothing lands in the project).

    Ready once it has logged that it starts. Run exactly one beat per schedule, or every
    periodic task runs once per beat (https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html).
    """

    def __init__(self, env: Mapping[str, str], directory: Path, loglevel: str) -> None:
        argv = celery_argv("beat", "-l", loglevel, "--schedule", str(directory / "celerybeat-schedule"))
        super().__init__(
            argv, cwd=str(directory), timeout=60, sleep=POLL_SECONDS, envvars=python_env(env),
            **self.open_log(directory / "beat.log"),
        )  # fmt: skip

    def pre_start_check(self) -> bool:
        return False  # its schedule file is new: no beat of it can be running already

    def after_start_check(self) -> bool:
        return bool(lines_with(self.log, "beat: Starting..."))


@pytest.fixture(scope="session")
def start_beat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., BeatProcess]]:
    """A factory: start_beat(env, loglevel="info") starts beat; stopped at the end of the session, or by the test."""
    beats: list[BeatProcess] = []

    def start(env: Mapping[str, str], loglevel: str = "info") -> BeatProcess:
        beat = BeatProcess(env, tmp_path_factory.mktemp("beat"), loglevel)
        beats.append(beat)
        start_or_fail(beat, beat.log)
        return beat

    yield start
    for beat in reversed(beats):
        beat.stop()
        beat.close_log()


def wait_until(check: Callable[[], bool], timeout: float, what: str, *watched: Any) -> None:
    """Poll `check` until it returns True; fail at the deadline, or at once when a watched process has ended.

    `watched`: executors of this module (they have a `log`); their log's tail goes into the failure.
    """
    deadline = time.monotonic() + timeout
    while not check():
        for proc in watched:
            status = exit_status(proc)
            if status is not None:
                ended = f"{proc.log.stem} (pid {pid_of(proc)}) ended with status {status}"
                fail(f"{ended} while waiting for {what}", proc.log)
        if time.monotonic() >= deadline:
            fail(f"timed out after {timeout:g} s waiting for {what}", watched[0].log if watched else None)
        time.sleep(POLL_SECONDS)


def logged(log: Path, *texts: str) -> Callable[[], bool]:
    """A check: true once a line holding all `texts` is appended to `log` after this call."""
    try:
        offset = log.stat().st_size
    except FileNotFoundError:
        offset = 0

    def check() -> bool:
        try:
            with open(log, "rb") as handle:
                handle.seek(offset)
                lines = handle.read().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return False
        return any(all(text in line for text in texts) for line in lines)

    return check


def log_size(log: Path) -> int:
    """Where `log` ends now: pass it as lines_with(since=...) to read only what comes after."""
    return log.stat().st_size if log.exists() else 0


def lines_with(log: Path, *texts: str, since: int = 0) -> list[str]:
    """The lines of `log` (from byte `since` on) that hold all `texts`."""
    try:
        with open(log, "rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if all(part in line for part in texts)]
