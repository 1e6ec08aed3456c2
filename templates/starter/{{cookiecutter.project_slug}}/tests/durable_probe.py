"""A task for the tests only (tests/test_tasks.py): the test worker imports it with --include.

`hold` notes each attempt with the pid of the pool process that runs it, then waits until the
test releases it, so that a test can kill that process in the middle of the task and watch
what happens to the message.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from {{ cookiecutter.package_name }}.celery_app import app

NAME = "durable_probe.hold"


@app.task(name=NAME)
def hold(run_dir: str, timeout: float = 60) -> int:
    """Write <run_dir>/attempt-<pid>, wait for <run_dir>/release; return the number of attempts."""
    directory = Path(run_dir)
    (directory / f"attempt-{os.getpid()}").touch()
    deadline = time.monotonic() + timeout
    while not (directory / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{directory / 'release'} did not appear within {timeout} s")
        time.sleep(0.05)
    return len(list(directory.glob("attempt-*")))
