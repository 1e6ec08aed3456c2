"""The glue `advisor bench` needs around mirakuru: free loopback ports, processes started
until ready and always stopped, logs in files, polling with a deadline, latency figures.

mirakuru starts each process in its own session and stops it with SIGTERM to that process
group (then SIGKILL), so a worker's pool processes go with it.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
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
        executor.stop()


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
