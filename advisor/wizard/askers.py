"""The wizard's askers: the prompts a terminal draws, behind one `Asker` protocol.

`PromptAsker` draws arrow-key menus (questionary); `PlainAsker` takes typed answers on a
terminal that cannot draw them (TERM=dumb). The flow (advisor.wizard.flow) speaks only to
the protocol, so it is tested with a scripted asker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from advisor.answers import as_text
from advisor.errors import InputError
from advisor.questions import Question

MAX_TRIES = 3
BACK = "\x00back"
HELP = "\x00help"
DONE = "\x00done"


@dataclass(frozen=True)
class Step:
    """Where the wizard is: the question's number, what is answered now, and the last error."""

    number: int
    total: int
    current: Any
    can_go_back: bool
    error: str | None = None
    back: str = "go back"  # what BACK does here: from the summary it cancels the edit


class Asker(Protocol):
    def ask(self, question: Question, step: Step) -> Any:
        """Return the answer (typed text or a chosen value), BACK or HELP."""

    def tell(self, text: str) -> None:
        """Show a line of text."""

    def review(self, rows: list[tuple[str, str, str]]) -> str:
        """Show (question id, question, answer) rows; return DONE or the id of the answer to change."""

    def select(self, message: str, options: list[tuple[str, str]], default: str) -> str:
        """Choose one of (value, title) options."""

    def text(self, message: str, default: str) -> str:
        """Ask for a line of text."""

    def choose_many(self, message: str, options: list[tuple[str, str]], chosen: list[str]) -> list[str]:
        """Choose any of (value, title) options; `chosen` are ticked to begin with."""


def show(value: Any) -> str:
    return as_text(value)


def typed_reply(question: Question, text: str, current: str) -> Any:
    """A typed line: empty keeps `current`; `?` is help and `<` is back unless they are valid answers."""
    typed = text.strip()
    if not typed:
        return current
    key = {"?": HELP, "<": BACK}.get(typed)
    if key is None or question.check(question.parse_text(typed)) is None:
        return text
    return key


def _options(question: Question) -> list[tuple[Any, str]]:
    if question.type == "bool":
        return [(True, "yes"), (False, "no")]
    return [(choice.value, f"{choice.value}: {choice.label}") for choice in question.choices]


class PromptAsker:
    """Arrow-key prompts (questionary, the prompt library copier uses)."""

    def __init__(self) -> None:
        import questionary

        self.q = questionary

    def ask(self, question: Question, step: Step) -> Any:
        if step.error:
            self.tell(f"  {step.error}")
        title = f"({step.number}/{step.total}) {question.prompt}"
        if question.type == "int":
            return self._typed(question, title, step)
        choices = [self.q.Choice(title, value=value) for value, title in _options(question)]
        choices += [self.q.Separator(), self.q.Choice("Show help", value=HELP)]
        if step.can_go_back:
            choices.append(self.q.Choice(step.back[0].upper() + step.back[1:], value=BACK))
        return self.q.select(
            title, choices=choices, default=_default(choices, step.current), instruction="(arrow keys, Enter)"
        ).unsafe_ask()

    def _typed(self, question: Question, title: str, step: Step) -> Any:
        current = show(step.current)
        hint = f"  (Enter keeps {current}; ? for help" + (f", < to {step.back})" if step.can_go_back else ")")
        # An empty field showing the current value as a placeholder, not prefilled with it:
        # typing `<` or `?` after a prefilled "3" gave "3<" (issue 13).
        text = self.q.text(title, instruction=hint, placeholder=current).unsafe_ask()
        return typed_reply(question, str(text), current)

    def tell(self, text: str) -> None:
        self.q.print(text)

    def review(self, rows: list[tuple[str, str, str]]) -> str:
        choices = [self.q.Choice("Done: show the verdict", value=DONE), self.q.Separator()]
        # The questions as asked, not their ids: the ids are for files and --set (issue 13).
        choices += [self.q.Choice(f"{prompt}  {value}", value=qid) for qid, prompt, value in rows]
        return str(
            self.q.select(
                "Your answers (choose one to change it):", choices=choices, instruction="(arrow keys, Enter)"
            ).unsafe_ask()
        )

    def select(self, message: str, options: list[tuple[str, str]], default: str) -> str:
        choices = [self.q.Choice(title, value=value) for value, title in options]
        return str(
            self.q.select(
                message, choices=choices, default=_default(choices, default), instruction="(arrow keys, Enter)"
            ).unsafe_ask()
        )

    def text(self, message: str, default: str) -> str:
        return str(self.q.text(message, default=default).unsafe_ask())

    def choose_many(self, message: str, options: list[tuple[str, str]], chosen: list[str]) -> list[str]:
        choices = [self.q.Choice(title, value=value, checked=value in chosen) for value, title in options]
        picked = self.q.checkbox(message, choices=choices, instruction="(Space ticks, Enter writes)").unsafe_ask()
        return [str(value) for value in picked]


def _default(choices: list[Any], current: Any) -> Any:
    return next((choice for choice in choices if getattr(choice, "value", None) == current), None)


class PlainAsker:
    """Typed answers, for terminals that cannot draw menus (TERM=dumb)."""

    def __init__(self) -> None:
        import typer

        self.typer = typer

    def ask(self, question: Question, step: Step) -> Any:
        if step.error:
            self.tell(f"  {step.error}")
        self.tell(f"({step.number}/{step.total}) {question.prompt}")
        if question.type == "choice":
            for _, title in _options(question):
                self.tell(f"    {title}")
        keys = "? for help" + (f", < to {step.back}" if step.can_go_back else "")
        current = show(step.current)
        # Yes/no questions say yes/no here too; true and false are still taken (issue 13).
        allowed = "yes, no" if question.type == "bool" else question.allowed()
        text = str(self.typer.prompt(f"  [{allowed}; {keys}]", default=current))
        return typed_reply(question, text, current)

    def tell(self, text: str) -> None:
        if text:
            self.typer.echo(text)

    def review(self, rows: list[tuple[str, str, str]]) -> str:
        self.tell("Your answers:")
        for number, (_, prompt, value) in enumerate(rows, start=1):
            self.tell(f"  {number:>2}. {prompt}  {value}")
        # A number picks a row; an id still works for those who know them from files and --set.
        picks = {str(number): qid for number, (qid, _, _) in enumerate(rows, start=1)}
        picks.update({qid: qid for qid, _, _ in rows})
        for _ in range(MAX_TRIES):
            text = str(
                self.typer.prompt(
                    "  Type a number to change that answer, or press Enter for the verdict",
                    default="",
                    show_default=False,
                )
            ).strip()
            if not text:
                return DONE
            if text in picks:
                return picks[text]
            self.tell(f"  '{text}' is not one of the numbers above")
        raise InputError(f"no valid choice after {MAX_TRIES} tries")

    def select(self, message: str, options: list[tuple[str, str]], default: str) -> str:
        values = [value for value, _ in options]
        for value, title in options:
            self.tell(f"    {value:<10} {title}")
        for _ in range(MAX_TRIES):
            text = str(self.typer.prompt(f"  {message}", default=default)).strip()
            if text in values:
                return text
            self.tell(f"  allowed: {', '.join(values)}")
        raise InputError(f"no valid choice after {MAX_TRIES} tries (allowed: {', '.join(values)})")

    def text(self, message: str, default: str) -> str:
        return str(self.typer.prompt(f"  {message}", default=default))

    def choose_many(self, message: str, options: list[tuple[str, str]], chosen: list[str]) -> list[str]:
        values = [value for value, _ in options]
        for value, title in options:
            self.tell(f"    {value:<10} {title}")
        for _ in range(MAX_TRIES):
            typed = str(self.typer.prompt(f"  {message} (comma-separated, - for none)", default=",".join(chosen)))
            picked = [] if typed.strip() == "-" else [part.strip() for part in typed.split(",") if part.strip()]
            unknown = [value for value in picked if value not in values]
            if not unknown:
                return list(dict.fromkeys(picked))
            self.tell(f"  '{unknown[0]}' is not one of: {', '.join(values)}")
        raise InputError(f"no valid choice after {MAX_TRIES} tries (allowed: {', '.join(values)})")


def terminal_asker(term: str) -> Asker:
    """Menus with arrow keys, or typed answers on a terminal that cannot draw them."""
    return PlainAsker() if term in ("dumb", "unknown") else PromptAsker()
