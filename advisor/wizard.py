"""The wizard: asking the question bank, reviewing the answers, and the offers at the end.

The flow is pure logic over an `Asker`, so it is tested with a scripted asker; the
terminal askers only draw prompts. Questions come in the bank's order (the four that
matter to everyone first), skipping those whose `ask_when` does not hold and those the
user prefilled (unless reviewing). Invalid input is re-asked with the allowed values; after
MAX_TRIES failures on one question the wizard stops with exit 2, so no scripted input can
loop forever (viewing the help starts the count again: a person reading it is not stuck).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from advisor.answers import as_text
from advisor.errors import InputError
from advisor.questions import Question, QuestionBank

MAX_TRIES = 3
BACK = "\x00back"
HELP = "\x00help"
DONE = "\x00done"
# The name the Markdown and HTML reports' next steps use, so their hints hold by default.
ANSWERS_FILE = "answers.yml"
Keep = Callable[[dict[str, Any]], None]


def _ignore(answers: dict[str, Any]) -> None:
    """Keep nothing: for callers that save the answers themselves."""


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


def to_ask(bank: QuestionBank, answers: dict[str, Any], pending: list[str]) -> list[Question]:
    """The questions still to ask, in order, given the answers so far."""
    return [bank.questions[qid] for qid in pending if bank.relevant(bank.questions[qid], answers)]


def ask_questions(
    bank: QuestionBank, asker: Asker, given: dict[str, Any], review_all: bool, keep: Keep = _ignore
) -> dict[str, Any]:
    """Ask every relevant question the user has not answered; BACK returns to the previous one.

    `keep` gets the answers after each one, so a session that ends early still has them.
    """
    answers = {**bank.defaults(), **given}
    pending = [qid for qid in bank.questions if review_all or qid not in given]
    asked: list[str] = []
    while True:
        remaining = [q for q in to_ask(bank, answers, pending) if q.id not in asked]
        if not remaining:
            return answers
        question = remaining[0]
        total = len(asked) + len(remaining)
        value = ask_one(question, Step(len(asked) + 1, total, answers[question.id], bool(asked)), asker)
        if value == BACK:
            asked.pop()
            continue
        answers[question.id] = value
        asked.append(question.id)
        keep(answers)


def ask_one(question: Question, step: Step, asker: Asker) -> Any:
    """One question until a valid answer or BACK; help on demand; bounded failures."""
    failures = 0
    error = None
    while True:
        raw = asker.ask(question, dataclasses.replace(step, error=error))
        if raw == HELP:
            asker.tell(question.help)
            # Reading the help is how a user recovers from wrong values: they get fresh tries (issue 13).
            failures, error = 0, None
            continue
        if raw == BACK and step.can_go_back:
            return BACK
        value = question.parse_text(raw) if isinstance(raw, str) else raw
        problem = question.check(value)
        if problem is None:
            return value
        failures += 1
        if failures >= MAX_TRIES:
            raise InputError(
                f"no valid answer to '{question.id}' after {MAX_TRIES} tries (allowed: {question.allowed()})"
            )
        error = f"{problem}; allowed: {question.allowed()}"


def review(bank: QuestionBank, asker: Asker, answers: dict[str, Any], keep: Keep = _ignore) -> dict[str, Any]:
    """The summary: change any answer until the user is done; `keep` gets each change."""
    while True:
        relevant = [q for q in bank.questions.values() if bank.relevant(q, answers)]
        keep(answers)  # what the summary shows is on disk, also when nothing was asked (--defaults)
        choice = asker.review([(q.id, q.prompt, show(answers[q.id])) for q in relevant])
        if choice == DONE:
            return answers
        current = answers[choice]
        value = ask_one(bank.questions[choice], Step(1, 1, current, True, back=f"cancel (keep {show(current)})"), asker)
        if value == BACK:  # the edit was cancelled: back to the summary, nothing changed
            continue
        answers = {**answers, choice: value}
        # A changed answer can make other questions relevant: ask those now.
        before = {q.id for q in relevant}
        newly = [q for q in bank.questions.values() if bank.relevant(q, answers) and q.id not in before]
        for number, extra in enumerate(newly, start=1):
            answers[extra.id] = ask_one(extra, Step(number, len(newly), answers[extra.id], False), asker)


class AnswersKeeper:
    """The answers file the wizard writes as the user goes, so no ending loses the answers (issue 13)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = False

    def keep(self, answers: dict[str, Any]) -> None:
        from advisor.answers import dump
        from advisor.files import write_atomically

        # The user chose this path, or agreed to overwrite it, before the first question.
        write_atomically(self.path, dump(answers), force=True)
        self.written = True


def choose_answers_path(asker: Asker, path: Path) -> Path:
    """Where to keep the answers: `path`, unless it exists and the user names another file."""
    while path.exists() or path.is_symlink():
        options = [("other", "Save them under another name")]
        if not path.is_symlink():  # never offered for a link: the advisor does not write through one
            options.append(("overwrite", f"Overwrite {path}"))
        choice = asker.select(f"{path} exists; the wizard saves your answers as you go.", options, "other")
        if choice == "overwrite":
            return path
        path = Path(asker.text("Answers file name:", str(path.with_stem(path.stem + "-2"))).strip() or path)
    return path


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
        return str(self.q.select(message, choices=choices, default=_default(choices, default)).unsafe_ask())

    def text(self, message: str, default: str) -> str:
        return str(self.q.text(message, default=default).unsafe_ask())


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
        text = str(self.typer.prompt(f"  [{question.allowed()}; {keys}]", default=current))
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


REPORT_CHOICES = [
    ("markdown", "Markdown (advisor-report.md)"),
    ("html", "HTML, one self-contained file (advisor-report.html)"),
    ("adr", "Decision record, MADR 4 (adr-0001-distribution.md)"),
    ("json", "JSON (advisor-report.json)"),
    ("text", "plain text (advisor-report.txt)"),
    ("no", "No report"),
]
REPORT_PATHS = {
    "markdown": "advisor-report.md",
    "html": "advisor-report.html",
    "adr": "adr-0001-distribution.md",
    "json": "advisor-report.json",
    "text": "advisor-report.txt",
}


def offer_report(asker: Asker, result: Any, accept: bool = False, answers_file: str | None = None) -> str | None:
    """Offer to write the report; never overwrites a file. Returns the path written."""

    from advisor.errors import AdvisorError
    from advisor.files import write_atomically
    from advisor.render import DecisionRecord, render

    fmt = asker.select("Write the report to a file?", REPORT_CHOICES, "markdown")
    if fmt == "no":
        return None
    name = REPORT_PATHS[fmt]
    for _ in range(MAX_TRIES):
        name = asker.text("File name:", name)
        try:
            # No project is named yet: the starter, offered next, is where the name comes from.
            write_atomically(
                Path(name),
                render(result, fmt, record=DecisionRecord(accepted=accept, answers_file=answers_file)),
                force=False,
            )
            return name
        except AdvisorError as exc:
            asker.tell(f"  {exc}; choose another name")
    raise InputError(f"no usable file name after {MAX_TRIES} tries")


def offer_starter(asker: Asker, result: Any, accept: bool = False, answers_file: str = "FILE") -> str | None:
    """Offer to generate the starter for the verdict. Returns the directory created."""

    from advisor import scaffold
    from advisor.errors import AdvisorError

    stack = result.verdict.recommendation
    if stack == "neither":
        asker.tell("Nothing to scaffold for 'neither yet'; `advisor new DIR --stack STACK` makes a starter anyway.")
        return None
    answer = asker.select(
        f"Generate the {stack} starter project now?",
        [("yes", "Yes"), ("no", f"No, maybe later (advisor new DIR --answers {answers_file})")],
        "yes",
    )
    if answer == "no":
        return None
    name = "my-service"
    for _ in range(MAX_TRIES):
        name = asker.text("Project directory (also its name):", name).strip()
        try:
            scaffold.generate(scaffold.plan(Path(name), Path(name).name, stack, False, accepted=accept), result)
            return name
        except AdvisorError as exc:
            asker.tell(f"  {exc}")
    raise InputError(f"no usable project directory after {MAX_TRIES} tries")


def terminal_asker(term: str) -> Asker:
    """Menus with arrow keys, or typed answers on a terminal that cannot draw them."""
    return PlainAsker() if term in ("dumb", "unknown") else PromptAsker()
