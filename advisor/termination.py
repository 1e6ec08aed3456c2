"""SIGTERM and SIGHUP as an exception, so cleanup runs: `advisor new` removes its staging
directory, `advisor bench` stops every engine process it started.

Python's default action for both ends the process at once: no `finally`, no ExitStack.
The exit status is a shell's: 128 + the signal (143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from advisor.errors import AdvisorError


class Terminated(AdvisorError):
    """SIGTERM or SIGHUP arrived (exit 128 + the signal, like a shell)."""

    exit_code = 143


@contextmanager
def raising_on_termination(outcome: str) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Terminated("SIGTERM; <outcome>"); the old handlers come back after."""

    def handler(signum: int, _frame: Any) -> None:
        error = Terminated(f"{signal.Signals(signum).name}; {outcome}")
        error.exit_code = 128 + signum
        raise error

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
