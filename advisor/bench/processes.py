"""The glue `advisor bench` needs around mirakuru: free loopback ports, processes started
until ready and always stopped, logs in files, polling with a deadline, latency figures.

mirakuru starts each process in its own session and stops it with SIGTERM to that process
group (then SIGKILL), so a worker's pool processes go with it.
"""

from __future__ import annotations

import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from mirakuru import Executor

START_TIMEOUT = 60  # seconds for an engine to become ready on a busy 2-core machine


class ReadyExecutor(Executor):
    """mirakuru's Executor, ready once `ready()` is true (a ping answered, a line in its log)."""

    def __init__(self, command: list[str], ready: Callable[[], bool], **kwargs: Any) -> None:
        self._ready = ready
        kwargs.setdefault("timeout", START_TIMEOUT)
        super().__init__(command, **kwargs)

    def pre_start_check(self) -> bool:
        return False  # never adopt a process that some other run left behind

    def after_start_check(self) -> bool:
        return self._ready()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(executor: Any) -> Iterator[Any]:
    """Start `executor` and wait until it is ready; stop it (its whole process group) afterwards."""
    executor.start()
    try:
        yield executor
    finally:
        stop(executor)


# mirakuru is not thread-safe: an experiment may kill a worker or callee while Ctrl-C stops it
# from the main thread, and both would wait on a process the other has just cleared.
PROCESS_LOCK = threading.Lock()


def stop(executor: Any) -> None:
    """Stop `executor` (its process group); one that died of a kill or a crash counts as stopped."""
    from mirakuru.exceptions import ProcessFinishedWithError

    with PROCESS_LOCK:
        try:
            executor.stop()
        except ProcessFinishedWithError:
            pass  # its exit status is no news here: alive() and the experiments report a dead engine


def kill(executor: Any) -> None:
    """SIGKILL `executor`'s process group at once, as a crash would end it: no warm shutdown, no ack."""
    with PROCESS_LOCK:
        executor.kill(True, signal.SIGKILL)


class Clock:
    """One experiment's deadline: every wait takes what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def over(self) -> bool:
        return time.monotonic() >= self.end

    def left(self, most: float | None = None) -> float:
        """Seconds left (at least a little, so a last check still happens), at most `most`."""
        remaining = max(0.05, self.end - time.monotonic())
        return remaining if most is None else min(most, remaining)


def without_credentials(url: str) -> str:
    """`url` for reports and messages: no user, password, query or fragment."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def log_to(stack: ExitStack, log: Path) -> dict[str, Any]:
    """mirakuru's stdout/stderr arguments for a process whose output goes to `log` (no pipe to fill)."""
    return {"stdout": stack.enter_context(open(log, "ab")), "stderr": subprocess.STDOUT}


def logged(log: Path, line: str) -> Callable[[], bool]:
    """A readiness check: `line` has appeared in `log`."""
    return lambda: log.exists() and line.encode() in log.read_bytes()


def poll(check: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    """`check()`'s first truthy value within `timeout` seconds, else None (never a fixed wait)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(interval)


def latency_metrics(samples: list[float]) -> dict[str, Any]:
    """p50 and p99 in milliseconds, and the samples themselves (the HTML draws their distribution)."""
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 3),
        "samples_ms": [round(sample * 1000, 3) for sample in samples],
    }
