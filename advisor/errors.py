"""The error hierarchy: the core raises these, and only cli.py turns them into output.

Each error carries the exit code of DESIGN.md; data errors carry every located problem
found in one run, so the user sees them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_INPUT = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Problem:
    """One diagnostic about a data file, printed as PATH:LINE:COL: error[CODE]: message (hint)."""

    path: str
    line: int
    col: int
    code: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.col}: error[{self.code}]: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class AdvisorError(Exception):
    """Base of every error the advisor reports without a traceback."""

    exit_code = EXIT_RUNTIME


class InputError(AdvisorError):
    """Invalid input: flags, answers, rule files (exit 2)."""

    exit_code = EXIT_INPUT


class DataError(InputError):
    """One or more located problems in data files (exit 2)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RefusedError(AdvisorError):
    """Refused to touch a target (exit 3)."""

    exit_code = EXIT_REFUSED
