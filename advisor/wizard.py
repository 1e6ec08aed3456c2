"""Asking the question bank: relevance, bounded retries, and an Asker for terminals.

The wizard asks the questions in the bank's order, skipping those whose `ask_when` does
not hold for the answers so far (they keep their defaults).
"""

from __future__ import annotations

from typing import Any, Protocol

from advisor.errors import InputError
from advisor.questions import Question, QuestionBank

MAX_TRIES = 3


class Asker(Protocol):
    def ask(self, question: Question, number: int, default: Any) -> str:
        """Show the question and return the raw text typed (the default's text on Enter)."""


def run(bank: QuestionBank, asker: Asker) -> dict[str, Any]:
    """Ask every relevant question; return a complete answer set."""
    answers = bank.defaults()
    number = 0
    for question in bank.questions.values():
        if not bank.relevant(question, answers):
            continue
        number += 1
        answers[question.id] = _ask_until_valid(question, number, asker)
    return answers


def _ask_until_valid(question: Question, number: int, asker: Asker) -> Any:
    for _ in range(MAX_TRIES):
        value = question.parse_text(asker.ask(question, number, question.default))
        if question.check(value) is None:
            return value
    # Bounded retries: `yes abc | advisor` must end, not loop forever (RELIABILITY C3).
    raise InputError(f"no valid answer to '{question.id}' after {MAX_TRIES} tries (allowed: {question.allowed()})")


class TerminalAsker:
    """Asks on the terminal through Typer's prompt."""

    def ask(self, question: Question, number: int, default: Any) -> str:
        import typer

        typer.echo(f"\n{number}. {question.prompt}")
        typer.echo(f"   {question.help}")
        for choice in question.choices:
            typer.echo(f"     {choice.value:<12} {choice.label}")
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        answer = typer.prompt(f"   [{question.allowed()}]", default=shown, show_default=True)
        error = question.check(question.parse_text(answer))
        if error:
            typer.echo(f"   {error}; allowed: {question.allowed()}", err=True)
        return str(answer)
