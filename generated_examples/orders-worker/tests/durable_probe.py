"""Tasks for the tests only (tests/test_tasks.py, tests/test_celery_faults.py): test workers import them with --include.

`hold` notes each attempt with the pid of the pool process that runs it, then waits until the
test releases it, so that a test can kill that process (or the broker, or the whole worker) in
the middle of the task and watch what happens to the message. `apply_once` does the same around
an effect that must happen once however often the task runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from orders_worker.celery_app import app

NAME = "durable_probe.hold"
APPLY_ONCE = "durable_probe.apply_once"


def _note_attempt(directory: Path) -> None:
    (directory / f"attempt-{os.getpid()}").touch()


def _wait_for_release(directory: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not (directory / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{directory / 'release'} did not appear within {timeout} s")
        time.sleep(0.05)


def attempts(run_dir: str | Path) -> list[Path]:
    """The attempt files of a run directory, one per time the task body started."""
    return sorted(Path(run_dir).glob("attempt-*"))


def ledger(run_dir: str | Path) -> list[str]:
    """The effects applied in a run directory (lines of its ledger)."""
    path = Path(run_dir) / "ledger"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@app.task(name=NAME)
def hold(run_dir: str, timeout: float = 60) -> int:
    """Write <run_dir>/attempt-<pid>, wait for <run_dir>/release; return the number of attempts."""
    directory = Path(run_dir)
    _note_attempt(directory)
    _wait_for_release(directory, timeout)
    return len(attempts(directory))


# The idempotency pattern durable work needs (acks_late: a task cut short runs again, maybe
# after its effect happened). The effect is recorded under a key that is the same on every
# delivery of the message, the task id, and only by whoever creates that key first: here a
# file opened with O_EXCL, in Redis `SET key value NX`, in SQL a unique constraint. A real
# effect goes in the same transaction as its key, so that a crash cannot separate the two.
@app.task(name=APPLY_ONCE, bind=True)
def apply_once(self: Any, run_dir: str, timeout: float = 60) -> dict[str, int]:
    """Append one line to <run_dir>/ledger once per task id, then wait for release; return the counts."""
    directory = Path(run_dir)
    _note_attempt(directory)
    try:
        os.close(os.open(directory / f"applied-{self.request.id}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # applied by an earlier delivery of this message: never twice
    else:
        with open(directory / "ledger", "a", encoding="utf-8") as handle:
            handle.write(f"{self.request.id}\n")
    _wait_for_release(directory, timeout)
    return {"attempts": len(attempts(directory)), "effects": len(ledger(directory))}
