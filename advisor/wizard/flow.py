"""The wizard's flow: asking the question bank, offering to finish early, the summary, the session.

Pure logic over an `Asker`, so it is tested with a scripted asker. The bank's first four
questions (those that matter to everyone) come first, then the one whose answer can still
move the verdict most (advisor.shortcut), skipping those whose `ask_when` does not hold and
those the user prefilled (unless reviewing). Invalid input is re-asked with the
allowed values; after MAX_TRIES failures on one question the wizard stops with exit 2, so no
scripted input can loop forever (viewing the help starts the count again: a person reading
it is not stuck).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor import shortcut
from advisor.errors import InputError
from advisor.questions import Question, QuestionBank
from advisor.rules import OPTION_NAMES, OPTIONS, RuleSet
from advisor.wizard.askers import BACK, DONE, HELP, MAX_TRIES, Asker, Step, show

# The name the Markdown and HTML reports' next steps use, so their hints hold by default.
ANSWERS_FILE = "answers.yml"
Keep = Callable[[dict[str, Any]], None]


def _ignore(answers: dict[str, Any]) -> None:
    """Keep nothing: for callers that save the answers themselves."""


def to_ask(bank: QuestionBank, answers: dict[str, Any], pending: list[str]) -> list[Question]:
    """The questions still to ask, in order, given the answers so far."""
    return [bank.questions[qid] for qid in pending if bank.relevant(bank.questions[qid], answers)]


def ask_questions(
    bank: QuestionBank,
    asker: Asker,
    given: dict[str, Any],
    review_all: bool,
    keep: Keep = _ignore,
    ruleset: RuleSet | None = None,
    answered: set[str] | None = None,
) -> dict[str, Any]:
    """Ask every relevant question the user has not answered; BACK returns to the previous one.

    `keep` gets the answers after each one, so a session that ends early still has them.
    With `ruleset`, the wizard offers to finish as soon as no remaining answer can change the
    verdict (advisor.shortcut); declined once, it is not offered again. `answered` collects
    the ids the user answered, so reports can tell an answer from a default equal to it.
    """
    answers = {**bank.defaults(), **given}
    pending = [qid for qid in bank.questions if review_all or qid not in given]
    asked: list[str] = []
    offering = ruleset  # None once declined: the offer is made once
    went_back = False
    back_to: str | None = None
    while True:
        remaining = [q for q in to_ask(bank, answers, pending) if q.id not in asked]
        if not remaining:
            return answers
        # Not before the first answer, nor in place of the question the user went back to.
        if offering is not None and asked and not went_back:
            unasked = [qid for qid in pending if qid not in asked]
            finish = offer_to_finish(offering, asker, answers, unasked, remaining)
            if finish:
                return answers
            if finish is not None:
                offering = None
        question = _pick(ruleset, answers, remaining, [qid for qid in pending if qid not in asked], back_to)
        # m counts the questions this session will ask given the answers so far, so the last one reads m/m.
        total = len(asked) + len(remaining)
        value = ask_one(question, Step(len(asked) + 1, total, answers[question.id], bool(asked)), asker)
        went_back = value == BACK
        if went_back:
            back_to = asked.pop()
            if answered is not None:
                answered.discard(back_to)
            continue
        back_to = None
        answers[question.id] = value
        asked.append(question.id)
        if answered is not None:
            answered.add(question.id)
        keep(answers)


def _pick(
    ruleset: RuleSet | None,
    answers: dict[str, Any],
    remaining: list[Question],
    open_ids: list[str],
    back_to: str | None,
) -> Question:
    """Back goes to the question it left; otherwise, with rules to weigh them, the question that
    can still change the most (advisor.shortcut), else the bank's order."""
    for question in remaining:
        if question.id == back_to:
            return question
    if ruleset is None:
        return remaining[0]
    return shortcut.next_question(ruleset, answers, remaining, open_ids)


def offer_to_finish(
    ruleset: RuleSet, asker: Asker, answers: dict[str, Any], unasked: list[str], remaining: list[Question]
) -> bool | None:
    """Say so when the remaining questions cannot change the verdict, and ask whether to finish.

    Returns None when there is nothing to offer, else whether the user chose to finish.
    """
    seen = shortcut.outlook(ruleset, answers, unasked)
    if seen.proof == "open":
        return None
    asker.tell(finish_sentence(seen, remaining, answers))
    count = len(remaining)
    choice = asker.select(
        "Finish now?",
        [
            ("finish", "Finish now: the summary, then the verdict"),
            ("continue", f"Go on with the {count} remaining question{'s' if count != 1 else ''}"),
        ],
        "finish",
    )
    return choice == "finish"


def finish_sentence(seen: shortcut.Outlook, remaining: list[Question], answers: dict[str, Any]) -> str:
    """The one plain sentence that says what is settled, worded for the check that proved it."""
    count = len(remaining)
    them = "question" if count == 1 else f"{count} questions"
    # Unasked questions hold their defaults, or, when reviewing an answers file, its answers.
    values = "defaults" if all(answers[q.id] == q.default for q in remaining) else "current answers"
    verdict = f"The verdict is {OPTION_NAMES[seen.recommendation]}, {_eligibility(seen.eligible)}"
    if seen.proof == "settled":
        change = f"no answers to the remaining {them}, alone or together, can change that"
    elif count == 1:
        change = "no answer to the remaining question changes that"
    else:
        # The weaker check: each answer changed on its own (the report's flips), not in combination.
        change = f"no single answer to the remaining {them} changes that on its own (the others at their {values})"
    kept = f"its {values[:-1]}" if count == 1 else f"their {values}"
    return f"{verdict}; {change}. Finishing now uses {kept}."


def _eligibility(eligible: tuple[str, ...]) -> str:
    if not eligible:
        return "though no option meets every stated need"
    if len(eligible) == len(OPTIONS):
        return "and every option meets the stated needs"
    names = [OPTION_NAMES[option] for option in eligible]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"and only {listed} {'meets' if len(names) == 1 else 'meet'} every stated need"


def ask_one(question: Question, step: Step, asker: Asker) -> Any:
    """One question until a valid answer or BACK; help on demand; bounded failures."""
    failures = 0
    error = None
    while True:
        raw = asker.ask(question, dataclasses.replace(step, error=error))
        if raw == HELP:
            asker.tell(help_text(question))
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


def help_text(question: Question) -> str:
    """The help a user asks for: what the question means, then why it matters to the choice."""
    return f"{question.help}\nWhy it matters: {question.matters}" if question.matters else question.help


def review(
    bank: QuestionBank, asker: Asker, answers: dict[str, Any], keep: Keep = _ignore, answered: set[str] | None = None
) -> dict[str, Any]:
    """The summary: change any answer until the user is done; `keep` gets each change, `answered` each id set."""
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
        if answered is not None:
            answered.add(choice)
        # A changed answer can make other questions relevant: ask those now.
        before = {q.id for q in relevant}
        newly = [q for q in bank.questions.values() if bank.relevant(q, answers) and q.id not in before]
        for number, extra in enumerate(newly, start=1):
            answers[extra.id] = ask_one(extra, Step(number, len(newly), answers[extra.id], False), asker)
            if answered is not None:
                answered.add(extra.id)


class AnswersKeeper:
    """The answers file the wizard writes as the user goes, so no ending loses the answers (issue 13)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = False
        self.reports: list[str] = []  # the report files written so far, for a session that ends early

    def keep(self, answers: dict[str, Any]) -> None:
        from advisor.answers import dump
        from advisor.files import write_atomically

        # The user chose this path, or agreed to overwrite it, before the first question.
        write_atomically(self.path, dump(answers), force=True)
        self.written = True


def choose_path(asker: Asker, path: Path, why: str = "", label: str = "File name:") -> Path:
    """Where to write: `path`, unless it exists and the user names another file or agrees to overwrite it.

    A link is never offered for overwriting: the advisor does not write through one.
    """
    while path.exists() or path.is_symlink():
        options = [("other", "Use another name")]
        if not path.is_symlink():
            options.append(("overwrite", f"Overwrite {path}"))
        choice = asker.select(f"{path} exists{'; ' + why if why else ''}.", options, "other")
        if choice == "overwrite":
            return path
        path = Path(asker.text(label, str(path.with_stem(path.stem + "-2"))).strip() or path)
    return path


def choose_answers_path(asker: Asker, path: Path) -> Path:
    """Where to keep the answers (choose_path, saying why the file is written at all)."""
    return choose_path(asker, path, "the wizard saves your answers as you go", "Answers file name:")


def run(
    ruleset: RuleSet,
    asker: Asker,
    given: dict[str, Any],
    review_all: bool,
    answers_path: Path,
    accept: bool,
    color: bool,
    named: frozenset[str] = frozenset(),
) -> int:
    """The wizard command: the session, and what each way of ending it leaves behind."""
    import typer

    from advisor import __version__
    from advisor.errors import EXIT_INTERRUPTED

    most = len([qid for qid in ruleset.questions.questions if review_all or qid not in given])
    opening = f"up to {most} questions about your system" if most else "your answers are all given: check them"
    asker.tell(f"advisor {__version__}: {opening}, then a verdict with its reasons.")
    keeper = AnswersKeeper(answers_path)
    try:
        lines = session(ruleset, asker, given, review_all, keeper, accept, color, named)
    except EOFError:
        # Ctrl-D at a prompt: the answers ended before the wizard did (docs/reliability.md, C2).
        raise InputError(f"input ended before the wizard finished; {what_was_kept(keeper)}") from None
    except (KeyboardInterrupt, typer.Abort):
        # Ctrl-C at a prompt: say what became of the session, not just "interrupted" (issue 13).
        sys.stderr.write(f"\nwizard cancelled; {what_was_kept(keeper)}\n")
        return EXIT_INTERRUPTED
    except InputError as exc:
        # Too many wrong values: the answers given so far must not be lost with the session.
        raise InputError(f"{exc}; {what_was_kept(keeper)}") from None
    for line in lines:
        typer.echo(line)
    return 0


def session(
    ruleset: RuleSet,
    asker: Asker,
    given: dict[str, Any],
    review_all: bool,
    keeper: AnswersKeeper,
    accept: bool,
    color: bool,
    named: frozenset[str] = frozenset(),
) -> list[str]:
    """The wizard from the answers file's name to the offers; returns the closing lines.

    `named`: the ids the answers file and --set gave, which the reports label "answered" with the asked ones.
    """
    from advisor import advice
    from advisor.wizard import offers

    keeper.path = choose_answers_path(asker, keeper.path)
    asker.tell(f"Your answers are saved as you go in {keeper.path}.")
    bank = ruleset.questions
    answered = set(named)
    asked = ask_questions(bank, asker, given, review_all, keeper.keep, ruleset, answered)
    result = advice.advise(ruleset, review(bank, asker, asked, keeper.keep, answered), frozenset(answered))
    offers.show_summary(result, color)
    reports = offers.offer_reports(asker, result, accept, str(keeper.path), keeper.reports)
    project = offers.offer_starter(asker, result, accept, str(keeper.path))
    return closing_lines(reports, project, keeper.path)


def what_was_kept(keeper: AnswersKeeper) -> str:
    """What an interrupted session leaves behind, for the message that ends it."""
    kept = []
    if keeper.written:
        path = keeper.path
        kept.append(f"your answers so far are in {path} (continue: advisor wizard --answers {path})")
    if keeper.reports:
        kept.append(f"report written: {', '.join(keeper.reports)}")
    return "; ".join([*kept, "nothing else was written"]) if kept else "nothing was written"


def closing_lines(reports: list[str], project: str | None, saved: Path) -> list[str]:
    lines = [f"report written: {path}" for path in reports]
    if project:
        lines += [f"starter created: {project} (run it: cd {project} && bash scripts/run)"]
    return [*lines, f"answers saved: {saved}"]
