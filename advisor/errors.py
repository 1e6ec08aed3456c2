"""The error hierarchy: the core raises these, and only cli.py turns them into output.

Each error carries its exit code (README.md, Exit codes); data errors carry every located problem
found in one run, so the user sees them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.records import Record

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters from data shown escaped: one problem stays one line, and no terminal escapes."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


EXIT_RUNTIME = 1
EXIT_INPUT = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130


@dataclass(repr=False, eq=False)
class Problem(Record):
    """One diagnostic about a data file, printed as PATH:LINE:COL: error[CODE]: message (hint)."""

    path: str
    line: int
    col: int
    code: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{printable(self.path)}:{self.line}:{self.col}: error[{self.code}]: {printable(self.message)}"
        return f"{text} ({printable(self.hint)})" if self.hint else text

    def position(self) -> tuple[str, int, int, str, str, str]:
        """The order problems are reported in: by file, line and column, then code and text."""
        return self.path, self.line, self.col, self.code, self.message, self.hint


class AdvisorError(Exception):
    """Base of every error the advisor reports without a traceback."""

    exit_code = EXIT_RUNTIME


class InputError(AdvisorError):
    """Invalid input: flags, answers, rule files (exit 2)."""

    exit_code = EXIT_INPUT


class DataError(InputError):
    """One or more located problems in data files (exit 2)."""

    def __init__(self, problems: list[Problem], note: str = "") -> None:
        self.problems = sorted(problems, key=Problem.position)
        # The note (what happened as a result, what to do) follows the problems it is about.
        super().__init__("\n".join([*(str(p) for p in self.problems), *([note] if note else [])]))


class RefusedError(AdvisorError):
    """Refused to touch a target (exit 3)."""

    exit_code = EXIT_REFUSED
