"""The command line: parse options, call one core function, render, return an exit code.

All errors cross one boundary, `main()`, which maps them to the exit codes of README.md:
0 ok, 1 runtime failure, 2 invalid input, 3 refused to touch a target, 130 interrupted.

No `from __future__ import annotations` here: Typer reads every command's annotations, and
string annotations cost it an eval each, which doubled the time to build a command.
"""

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import click
import typer
import typer.main
from click import exceptions as click_exc
from typer.core import TyperGroup

from advisor import __version__, advice, completion
from advisor.errors import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_RUNTIME,
    AdvisorError,
    DataError,
    InputError,
    printable,
)
from advisor.files import write_atomically
from advisor.render import DecisionRecord, render

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


class SuggestingGroup(TyperGroup):
    """A group that answers an unknown command with the nearest one, once."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # click's own resolution: Typer's suggestion reads self.commands (filled lazily below)
        # and, in a nested group, appends itself twice.
        try:
            return click.Group.resolve_command(self, ctx, args)
        except click_exc.UsageError as exc:
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if not matches:
                raise
            raise click_exc.UsageError(f"{exc.message.rstrip('.')}. Did you mean {matches[0]!r}?", exc.ctx) from None


class LazyGroup(SuggestingGroup):
    """The root command: each subcommand's click object is built only when it is used.

    Typer builds every command's parameters from its signature up front, which cost every
    run several milliseconds; `advisor recommend` needs only its own. `--help` and shell
    completion list them all and so build them all, as before.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = typer.main.get_command(_COMMANDS[cmd_name])
        return self.commands[cmd_name]


# Every Typer app here: plain text, our own error boundary, and -h as well as --help.
_TYPER: dict[str, Any] = {
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(
    cls=LazyGroup,
    help="Choose Celery, Crossbar.io, both, or neither yet, with reasons you can check.",
    no_args_is_help=False,
    **_TYPER,
)
_COMMANDS: dict[str, typer.Typer] = {}


def _command(name: str) -> Callable[[CommandFunction], CommandFunction]:
    """Register a subcommand as a one-command Typer app that LazyGroup builds on demand."""
    single = typer.Typer(add_completion=False, **_TYPER)
    _COMMANDS[name] = single
    return single.command(name)


rules_app = typer.Typer(cls=SuggestingGroup, help="Browse and check the rules.", no_args_is_help=True, **_TYPER)
_state = {"debug": False}


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class ReportFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"
    adr = "adr"
    csv = "csv"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"advisor {__version__}")
        raise typer.Exit(0)


AnswersOpt = typer.Option(None, "--answers", help="Answers file (version: 1).", dir_okay=False)
SetOpt = typer.Option(
    [], "--set", help="ID=VALUE; repeatable; wins over --answers.", autocompletion=completion.answer_settings
)
DefaultsOpt = typer.Option(False, "--defaults", help="Take the default for every answer not given.")
RulesOpt = typer.Option([], "--rules", help="Extra or overriding rule files (a directory or file); repeatable.")
PrefillOpt = typer.Option(None, "--answers", help="Prefill from this answers file.", dir_okay=False)
WizardDefaultsOpt = typer.Option(False, "--defaults", help="Take the defaults; go straight to the summary.")
ReviewOpt = typer.Option(False, "--review", help="Ask every question, prefilled ones included.")
SaveAnswersOpt = typer.Option(
    None,
    "--save-answers",
    help="The answers file the wizard keeps as you go (default answers.yml; asks before overwriting).",
)
AcceptOpt = typer.Option(
    False,
    "--accept",
    help="Write the decision record (ADR) as accepted, dated the day it is written; by default it is proposed.",
)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    answers: Path | None = PrefillOpt,
    set_: list[str] = SetOpt,
    defaults: bool = WizardDefaultsOpt,
    review_all: bool = ReviewOpt,
    save_answers: Path | None = SaveAnswersOpt,
    rules: list[Path] = RulesOpt,
    accept: bool = AcceptOpt,
) -> None:
    """Run the wizard when no command is given (the wizard's options work here too)."""
    _state["debug"] = debug
    wizard_options = {
        "answers": answers,
        "set_": set_,
        "defaults": defaults,
        "review_all": review_all,
        "save_answers": save_answers,
        "rules": rules,
        "accept": accept,
    }
    if ctx.invoked_subcommand is None:
        ctx.invoke(wizard, **wizard_options)
    elif any(wizard_options.values()):
        raise InputError(
            f"the wizard's options go after the command: advisor {ctx.invoked_subcommand} --answers FILE ..."
        )


@_command("recommend")
def recommend(
    answers: Path | None = AnswersOpt,
    set_: list[str] = SetOpt,
    defaults: bool = DefaultsOpt,
    output_format: ReportFormat = typer.Option(ReportFormat.text, "--format", help="Output format."),
    output: Path | None = typer.Option(None, "--output", help="Write to this file instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --output file."),
    date: str | None = typer.Option(None, "--date", help="Report date (YYYY-MM-DD) for reproducible output."),
    rules: list[Path] = RulesOpt,
    batch: Path | None = typer.Option(
        None, "--batch", help="A portfolio: YAML or CSV of named answer sets.", dir_okay=False
    ),
    project: str | None = typer.Option(
        None, "--project", metavar="NAME", help="The project the decision record (--format adr) is about."
    ),
    accept: bool = AcceptOpt,
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="With --batch: write the good rows' verdicts despite bad rows (still exit 2)."
    ),
) -> int:
    """Print a verdict for the given answers, with reasons, flips and caveats."""
    _check_date(date)
    record = _decision_record(output_format, project, accept, answers)
    if batch is not None:
        return _recommend_batch(batch, answers, output_format.value, output, force, rules, skip_bad)
    if skip_bad:
        raise InputError("--skip-bad goes with --batch: it skips a portfolio's bad rows")
    if output_format == ReportFormat.csv:
        raise InputError("--format csv is for --batch; use text, markdown, html, json or adr")
    result = _advice_from_options(answers, set_, defaults, rules)
    color = output is None and _wants_color()
    _emit(render(result, output_format.value, date, color, record), output, force)
    return 0


def _decision_record(
    output_format: ReportFormat, project: str | None, accept: bool, answers: Path | None
) -> "DecisionRecord":
    """The ADR's project and status (refused for other formats, which would silently ignore them),
    and the answers file the next steps name: the one given, so that they can be run as shown."""
    if output_format != ReportFormat.adr and (project is not None or accept):
        flag = "--project" if project is not None else "--accept"
        raise InputError(f"{flag} is for the decision record: add --format adr")
    if project is not None and not project.strip():
        raise InputError("--project NAME is empty: give the project's name, or leave --project out")
    return DecisionRecord(project.strip() if project else None, accept, str(answers) if answers else None)


def _recommend_batch(
    path: Path, answers: Path | None, fmt: str, output: Path | None, force: bool, rules: list[Path], skip_bad: bool
) -> int:
    """One verdict per service. A bad row stops the run before anything is written (exit 2);
    with --skip-bad the good rows' verdicts are written, the bad rows reported, and it still exits 2."""
    from advisor import batch

    if answers is not None:
        raise InputError("--batch and --answers do not go together: the batch file holds the answers")
    if fmt not in ("text", "json", "csv"):
        raise InputError(f"--batch writes text, json or csv, not {fmt}")
    ruleset = advice.load_ruleset(rules)
    services, problems = batch.load(path, ruleset.questions)
    if problems and not skip_bad:
        # README: problems are reported before anything is written; a partial table written
        # over last week's out.csv would pass for the whole portfolio.
        raise DataError(problems, _NOT_WRITTEN)
    _emit(batch.render(batch.decide_all(ruleset, services), fmt), output, force)
    if problems:
        raise DataError(problems)
    return 0


_NOT_WRITTEN = "nothing written; fix the rows above, or pass --skip-bad to write the others' verdicts"


def _advice_from_options(answers: Path | None, sets: list[str], defaults: bool, rules: list[Path]) -> advice.Advice:
    """The verdict for recommend's and new's answer options; a typo never turns into a default verdict."""
    if answers is None and not sets and not defaults:
        raise InputError("no answers given: pass --answers FILE, --set ID=VALUE or --defaults")
    ruleset = advice.load_ruleset(rules)
    return advice.advise_given(ruleset, answers, sets)


def _check_date(date: str | None) -> None:
    import datetime as dt

    if date is None:
        return
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise InputError(f"--date {date!r} is not a date (expected YYYY-MM-DD)") from None


def _wants_color() -> bool:
    """Colour only on a terminal that wants it (NO_COLOR, TERM=dumb and pipes get plain text)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM", "") == "dumb":
        return False
    return sys.stdout.isatty()


def _emit(text: str, output: Path | None, force: bool) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomically(output, text, force)
    typer.echo(f"wrote {output}", err=True)


class Stack(StrEnum):
    celery = "celery"
    crossbar = "crossbar"
    hybrid = "hybrid"


@_command("new")
def new(
    directory: Path = typer.Argument(..., metavar="DIR", help="Where to create the project."),
    answers: Path | None = AnswersOpt,
    set_: list[str] = SetOpt,
    defaults: bool = DefaultsOpt,
    rules: list[Path] = RulesOpt,
    stack: Stack | None = typer.Option(None, "--stack", help="Override the verdict."),
    name: str | None = typer.Option(None, "--name", help="Project name (default: DIR's name)."),
    force: bool = typer.Option(False, "--force", help="Add the files to a non-empty DIR."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the file tree; write nothing."),
    accept: bool = AcceptOpt,
) -> int:
    """Create the starter project for the verdict, with its decision record."""
    from advisor import scaffold
    from advisor.render import view

    view.source_date_epoch()  # the decision record's date: a bad SOURCE_DATE_EPOCH stops us before any file
    result = _advice_from_options(answers, set_, defaults, rules)
    chosen = stack.value if stack else result.verdict.recommendation
    if chosen == "neither":
        raise InputError(scaffold.NOTHING_TO_SCAFFOLD)
    plan = scaffold.plan(directory, name, chosen, force, accepted=accept)
    if dry_run:
        typer.echo(f"would create {directory} ({chosen}):")
        for path in scaffold.dry_run(plan, result):
            typer.echo(f"  {path}")
        return 0
    files = scaffold.generate(plan, result)
    typer.echo(f"created {directory}: {chosen} starter, {len(files)} files")
    typer.echo(f"  decision record: {directory}/{scaffold.adr_path(chosen)}")
    typer.echo(f"  run it:  cd {directory} && bash scripts/run")
    typer.echo(f"  test it: cd {directory} && bash scripts/test")
    return 0


@_command("check")
def check(
    directory: Path = typer.Argument(Path("."), metavar="[DIR]", help="A project made by advisor new."),
    rules: list[Path] = RulesOpt,
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when the verdict no longer holds."),
) -> int:
    """Re-evaluate a project's saved answers with the current rules."""
    from advisor import project_check

    drift = project_check.check(directory, advice.load_ruleset(rules))
    sys.stdout.write(project_check.render(drift, directory))
    return 1 if exit_code and not drift.holds else 0


@_command("wizard")
def wizard(
    answers: Path | None = PrefillOpt,
    set_: list[str] = SetOpt,
    defaults: bool = WizardDefaultsOpt,
    review_all: bool = ReviewOpt,
    save_answers: Path | None = SaveAnswersOpt,
    rules: list[Path] = RulesOpt,
    accept: bool = AcceptOpt,
) -> int:
    """Ask the questions, show the verdict, offer the report and the starter."""
    from advisor import wizard as wiz

    if not sys.stdin.isatty():
        raise InputError(
            "stdin is not a terminal, so the wizard will not prompt; pass the answers instead: "
            "advisor recommend --answers FILE (or --set ID=VALUE, --defaults)"
        )
    ruleset = advice.load_ruleset(rules)
    named = advice.given_answers(ruleset.questions, answers, set_)
    given = {**(ruleset.questions.defaults() if defaults else {}), **named}
    asker = wiz.terminal_asker(os.environ.get("TERM", ""))
    path = save_answers or Path(wiz.ANSWERS_FILE)
    return wiz.run(ruleset, asker, given, review_all, path, accept, _wants_color(), frozenset(named))


@_command("questions")
def questions(output_format: TextOrJson = typer.Option(TextOrJson.text, "--format")) -> int:
    """List the question bank: ids, allowed values, defaults and help."""
    from advisor import answers as answers_mod

    bank = advice.load_bank()
    if output_format == TextOrJson.json:
        rows = [_question_row(q) for q in bank.questions.values()]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    for question in bank.questions.values():
        default = answers_mod.as_text(question.default)
        typer.echo(f"{question.id} ({question.type}; default {default})")
        typer.echo(f"  {question.prompt}")
        typer.echo(f"  allowed: {question.allowed()}")
        typer.echo(f"  {question.help}")
        typer.echo(f"  why it matters: {question.matters}\n")
    return 0


def _question_row(question: Any) -> dict[str, Any]:
    row = {
        "id": question.id,
        "type": question.type,
        "prompt": question.prompt,
        "help": question.help,
        "matters": question.matters,
        "default": question.default,
    }
    if question.type == "choice":
        row["choices"] = [{"value": c.value, "label": c.label} for c in question.choices]
    if question.type == "int":
        row["min"], row["max"] = question.minimum, question.maximum
    return row


_COMMANDS["rules"] = rules_app


@rules_app.command("list")
def rules_list(rules: list[Path] = RulesOpt) -> int:
    """List every rule: id, kind, effects and title."""
    for rule in advice.load_ruleset(rules).rules:
        effects = " ".join(f"{k}{v:+d}" for k, v in rule.effects.items()) or _kind_summary(rule)
        typer.echo(f"{rule.id:<40} {effects:<28} {rule.title}")
    return 0


def _kind_summary(rule: Any) -> str:
    if rule.is_requirement:
        return "requirement: rules out " + ",".join(rule.excludes)
    return f"caveat ({rule.severity})"


@rules_app.command("show")
def rules_show(
    rule_id: str = typer.Argument(..., metavar="ID", autocompletion=completion.rule_ids), rules: list[Path] = RulesOpt
) -> int:
    """Show one rule in full."""
    from advisor.conditions import describe
    from advisor.validation import suggest

    ruleset = advice.load_ruleset(rules)
    rule = ruleset.get(rule_id)
    if rule is None:
        raise InputError(f"no rule '{rule_id}' ({suggest(rule_id, [r.id for r in ruleset.rules])})")
    typer.echo(f"{rule.id}: {rule.title}")
    typer.echo(f"  kind: {rule.kind}    defined at: {rule.location}")
    typer.echo("  effects: " + (", ".join(f"{k} {v:+d}" for k, v in rule.effects.items()) or "none (caveat)"))
    if rule.is_caveat:
        typer.echo(f"  severity: {rule.severity}")
        typer.echo("  shown when the verdict is: " + ", ".join(rule.applies_to))
    if rule.is_requirement:
        typer.echo("  rules out: " + ", ".join(rule.excludes))
    typer.echo("  when:")
    for line in describe(rule.when, "    "):
        typer.echo(line)
    typer.echo(f"  because: {' '.join(rule.because.split())}")
    for source in rule.sources:
        typer.echo(f"  source: {source}")
    return 0


@rules_app.command("lint")
def rules_lint(
    paths: list[Path] = typer.Argument(None, help="Rule files or directories (default: the shipped rules)."),
) -> int:
    """Validate rule files, run their cases, and check the scenarios."""
    from advisor import rule_lint

    report = rule_lint.lint(advice.load_bank(), list(paths or []))
    typer.echo(f"ok: {report.rules} rules in {report.files} files, {report.cases} cases, {report.scenarios} scenarios")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The error boundary: run the app and turn every outcome into an exit code."""
    command = typer.main.get_command(app)
    if sys.stdout is None:
        # Started with stdout closed (advisor ... >&-): say so where we still can.
        if sys.stderr is not None:
            sys.stderr.write("advisor: standard output is closed; nothing to write to\n")
        return EXIT_RUNTIME
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show a character (PYTHONIOENCODING=ascii, LANG=C) gets an escape, not a crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        result = command.main(args=argv, prog_name="advisor", standalone_mode=False)
    except click_exc.UsageError as exc:
        exc.show()
        return EXIT_INPUT
    except click_exc.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except AdvisorError as exc:
        lines = str(exc).split("\n") if isinstance(exc, DataError) else [str(exc)]
        sys.stderr.write("".join(f"{printable(line)}\n" for line in lines))
        return exc.exit_code
    except BrokenPipeError:
        # Reader went away (advisor ... | head): nothing more to say, and no traceback.
        sys.stderr.close()
        return EXIT_RUNTIME
    except Exception as exc:  # the boundary: anything else is our bug
        if _state["debug"]:
            raise
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        return EXIT_RUNTIME
    return result if isinstance(result, int) else 0


def run() -> None:
    """The console script and `python -m advisor`: main(), then leave at once.

    By then every file is written and closed, and no atexit handler or thread is left.
    Tearing the interpreter down module by module would add about a sixth to every run
    (README, Performance), so what is still buffered is flushed and the process ends.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # a closed stream or a reader gone away: main() has said what it could
    os._exit(code)
