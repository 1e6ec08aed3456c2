"""The command line: parse options, call one core function, render, return an exit code.

All errors cross one boundary, `main()`, which maps them to the exit codes of README.md:
0 ok, 1 runtime failure, 2 invalid input, 3 refused to touch a target, 130 interrupted.

No `from __future__ import annotations` here: Typer reads every command's annotations, and
string annotations cost it an eval each, which doubled the time to build a command.
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

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
from advisor.files import check_writable, write_atomically
from advisor.render import BENCH_FORMATS, FORMATS, LISTING_FORMATS, DecisionRecord, Format, one_of, render
from advisor.rules import STACKS

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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"advisor {__version__}")
        raise typer.Exit(0)


# Every option and argument, declared once (Typer's Annotated style) and used by each command
# that takes it; a default, where there is one, is written in the signature.
VersionOpt = Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
AnswersOpt = Annotated[Path | None, typer.Option("--answers", help="Answers file (version: 1).", dir_okay=False)]
PrefillOpt = Annotated[Path | None, typer.Option("--answers", help="Prefill from this answers file.", dir_okay=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="ID=VALUE; repeatable; wins over --answers.", autocompletion=completion.answer_settings),
]
DefaultsOpt = Annotated[bool, typer.Option("--defaults", help="Take the default for every answer not given.")]
WizardDefaultsOpt = Annotated[bool, typer.Option("--defaults", help="Take the defaults; go straight to the summary.")]
ReviewOpt = Annotated[bool, typer.Option("--review", help="Ask every question, prefilled ones included.")]
SaveAnswersOpt = Annotated[
    Path | None,
    typer.Option(
        "--save-answers",
        help="The answers file the wizard keeps as you go (default answers.yml; asks before overwriting).",
    ),
]
RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra or overriding rule files (a directory or file); repeatable."),
]
AcceptOpt = Annotated[
    bool,
    typer.Option(
        "--accept",
        help="Write the decision record (ADR) as accepted, dated the day it is written; by default it is proposed.",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format (csv: with --batch).")]
# The same formats, narrowed to what a listing writes; click names the valid ones on a mistake.
ListingFormatOpt = Annotated[
    Format,
    typer.Option("--format", help="Output format.", click_type=click.Choice([fmt.value for fmt in LISTING_FORMATS])),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="Write to this file instead of stdout.")]
ForceOutputOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Report date (YYYY-MM-DD) for reproducible output.")]
BatchOpt = Annotated[
    Path | None, typer.Option("--batch", help="A portfolio: YAML or CSV of named answer sets.", dir_okay=False)
]
ProjectOpt = Annotated[
    str | None,
    typer.Option("--project", metavar="NAME", help="The project the decision record (--format adr) is about."),
]
SkipBadOpt = Annotated[
    bool,
    typer.Option("--skip-bad", help="With --batch: write the good rows' verdicts despite bad rows (still exit 2)."),
]
NewDirArg = Annotated[Path, typer.Argument(metavar="DIR", help="Where to create the project.")]
StackOpt = Annotated[
    str | None, typer.Option("--stack", help="Override the verdict.", click_type=click.Choice(list(STACKS)))
]
NameOpt = Annotated[str | None, typer.Option("--name", help="Project name (default: DIR's name).")]
ForceDirOpt = Annotated[bool, typer.Option("--force", help="Add the files to a non-empty DIR.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the file tree; write nothing.")]
ProjectDirArg = Annotated[Path, typer.Argument(metavar="[DIR]", help="A project made by advisor new.")]
ExitCodeOpt = Annotated[bool, typer.Option("--exit-code", help="Exit 1 when the verdict no longer holds.")]
RuleIdArg = Annotated[str, typer.Argument(metavar="ID", autocompletion=completion.rule_ids)]
EvidenceOpt = Annotated[
    Path | None,
    typer.Option(
        "--evidence",
        metavar="FILE",
        dir_okay=False,
        help="What advisor bench --format json measured: shown beside the rules it supports.",
    ),
]
QuickOpt = Annotated[bool, typer.Option("--quick", help="A short run: under a minute on two cores.")]
BenchFormatOpt = Annotated[
    Format,
    typer.Option("--format", help="Output format.", click_type=click.Choice([fmt.value for fmt in BENCH_FORMATS])),
]
BrokerOpt = Annotated[
    str | None,
    typer.Option(
        "--broker",
        metavar="URL",
        help="Your Redis or RabbitMQ (redis://, rediss://, amqp://) instead of a local redis-server.",
    ),
]
RouterOpt = Annotated[
    str | None,
    typer.Option("--router", metavar="URL", help="Your Crossbar router (ws://, wss://) instead of a local one."),
]
CrossbarOpt = Annotated[
    str | None,
    typer.Option("--crossbar", metavar="PATH", envvar="ADVISOR_CROSSBAR", help="The crossbar executable to start."),
]
RedisServerOpt = Annotated[
    str | None, typer.Option("--redis-server", metavar="PATH", help="The redis-server executable to start.")
]
OnlyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--only", metavar="ID", help="Run only this experiment; repeatable.", autocompletion=completion.bench_ids
    ),
]
RuleFilesArg = Annotated[
    list[Path] | None, typer.Argument(help="Rule files or directories (default: the shipped rules).")
]


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: VersionOpt = False,
    debug: DebugOpt = False,
    answers: PrefillOpt = None,
    set_: SetOpt = None,
    defaults: WizardDefaultsOpt = False,
    review_all: ReviewOpt = False,
    save_answers: SaveAnswersOpt = None,
    rules: RulesOpt = None,
    accept: AcceptOpt = False,
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
    answers: AnswersOpt = None,
    set_: SetOpt = None,
    defaults: DefaultsOpt = False,
    output_format: FormatOpt = Format.text,
    output: OutputOpt = None,
    force: ForceOutputOpt = False,
    date: DateOpt = None,
    rules: RulesOpt = None,
    batch: BatchOpt = None,
    project: ProjectOpt = None,
    accept: AcceptOpt = False,
    skip_bad: SkipBadOpt = False,
    evidence: EvidenceOpt = None,
) -> int:
    """Print a verdict for the given answers, with reasons, flips and caveats."""
    _check_date(date)
    # The answers file the next steps name: the one given, so that they can be run as shown.
    record = DecisionRecord.from_options(output_format, project, accept, str(answers) if answers else None)
    if batch is not None and evidence is not None:
        raise InputError("--evidence goes with one answer set's report, not --batch")
    if batch is not None:
        return _recommend_batch(batch, answers, output_format, output, force, rules or [], skip_bad)
    if skip_bad:
        raise InputError("--skip-bad goes with --batch: it skips a portfolio's bad rows")
    if output_format not in FORMATS:
        raise InputError(f"--format {output_format} is for --batch; use {one_of(FORMATS)}")
    measured = _bench_evidence(evidence)
    result = _advice_from_options(answers, set_ or [], defaults, rules or [])
    color = output is None and _wants_color()
    _emit(render(result, output_format, date, color, record, bench=measured), output, force)
    return 0


def _bench_evidence(path: Path | None) -> Any:
    """The bench document --evidence names (a BenchResult), read and checked before any advice is built."""
    if path is None:
        return None
    from advisor.render import evidence

    return evidence.load(path)


def _recommend_batch(
    path: Path, answers: Path | None, fmt: Format, output: Path | None, force: bool, rules: list[Path], skip_bad: bool
) -> int:
    from advisor import batch

    if answers is not None:
        raise InputError("--batch and --answers do not go together: the batch file holds the answers")
    batch.recommend_all(path, advice.load_ruleset(rules), fmt, skip_bad, lambda text: _emit(text, output, force))
    return 0


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


@_command("new")
def new(
    directory: NewDirArg,
    answers: AnswersOpt = None,
    set_: SetOpt = None,
    defaults: DefaultsOpt = False,
    rules: RulesOpt = None,
    stack: StackOpt = None,
    name: NameOpt = None,
    force: ForceDirOpt = False,
    dry_run: DryRunOpt = False,
    accept: AcceptOpt = False,
) -> int:
    """Create the starter project for the verdict, with its decision record."""
    from advisor import scaffold

    result = _advice_from_options(answers, set_ or [], defaults, rules or [])
    for line in scaffold.new(directory, result, stack, name, force, dry_run, accept):
        typer.echo(line)
    return 0


@_command("check")
def check(directory: ProjectDirArg = Path("."), rules: RulesOpt = None, exit_code: ExitCodeOpt = False) -> int:
    """Re-evaluate a project's saved answers with the current rules."""
    from advisor import project_check

    drift = project_check.check(directory, advice.load_ruleset(rules or []))
    sys.stdout.write(project_check.render(drift, directory))
    return 1 if exit_code and not drift.holds else 0


@_command("wizard")
def wizard(
    answers: PrefillOpt = None,
    set_: SetOpt = None,
    defaults: WizardDefaultsOpt = False,
    review_all: ReviewOpt = False,
    save_answers: SaveAnswersOpt = None,
    rules: RulesOpt = None,
    accept: AcceptOpt = False,
) -> int:
    """Ask the questions, show the verdict, offer the report and the starter."""
    from advisor import wizard as wiz

    if not sys.stdin.isatty():
        raise InputError(
            "stdin is not a terminal, so the wizard will not prompt; pass the answers instead: "
            "advisor recommend --answers FILE (or --set ID=VALUE, --defaults)"
        )
    ruleset = advice.load_ruleset(rules or [])
    named = advice.given_answers(ruleset.questions, answers, set_ or [])
    given = {**(ruleset.questions.defaults() if defaults else {}), **named}
    asker = wiz.terminal_asker(os.environ.get("TERM", ""))
    path = save_answers or Path(wiz.ANSWERS_FILE)
    return wiz.run(ruleset, asker, given, review_all, path, accept, _wants_color(), frozenset(named))


@_command("questions")
def questions(output_format: ListingFormatOpt = Format.text) -> int:
    """List the question bank: ids, allowed values, defaults and help."""
    from advisor.render import catalog

    bank = advice.load_bank()
    sys.stdout.write(catalog.questions_json(bank) if output_format == Format.json else catalog.questions_text(bank))
    return 0


@_command("bench")
def bench(
    quick: QuickOpt = False,
    output_format: BenchFormatOpt = Format.text,
    output: OutputOpt = None,
    force: ForceOutputOpt = False,
    broker: BrokerOpt = None,
    router: RouterOpt = None,
    crossbar: CrossbarOpt = None,
    redis_server: RedisServerOpt = None,
    only: OnlyOpt = None,
) -> int:
    """Run Celery and Crossbar (WAMP) for real, side by side: round trip, throughput, fan-out,
    an absent and a crashed consumer, periodic work.

    Starts its own redis-server and crossbar on free loopback ports and stops them (Ctrl-C too),
    or uses --broker / --router (their credentials from ADVISOR_BENCH_BROKER_PASSWORD and
    ADVISOR_BENCH_REALM, ADVISOR_BENCH_AUTHID, ADVISOR_BENCH_TICKET; never printed).
    Needs the engines extra: pip install 'advisor[engines]'.
    Exit 1 when an engine is missing (the message says how to get it), 2 for a bad option,
    130 when cancelled.
    """
    from advisor.bench import runner
    from advisor.bench.model import ENGINES
    from advisor.render import bench as bench_render

    chosen = runner.selected(tuple(only or ()))  # a bad --only is refused before any engine starts
    if output is not None:
        check_writable(output, force)  # refused now, not after a minute of measuring
    with bench_render.progress_bar(len(chosen) * len(ENGINES), sys.stderr) as progress:
        options = runner.Options(quick, tuple(only or ()), broker, router, redis_server, crossbar, progress)
        result = runner.run(options)
    _emit(bench_render.render(result, output_format.value), output, force)
    return 0


_COMMANDS["rules"] = rules_app


@rules_app.command("list")
def rules_list(rules: RulesOpt = None) -> int:
    """List every rule: id, kind, effects and title."""
    from advisor.render import catalog

    sys.stdout.write(catalog.rules_table(advice.load_ruleset(rules or []).rules))
    return 0


@rules_app.command("show")
def rules_show(rule_id: RuleIdArg, rules: RulesOpt = None) -> int:
    """Show one rule in full."""
    from advisor.render import catalog

    sys.stdout.write(catalog.rule_detail(advice.load_ruleset(rules or []).find(rule_id)))
    return 0


@rules_app.command("lint")
def rules_lint(paths: RuleFilesArg = None) -> int:
    """Validate rule files, run their cases, and check the scenarios."""
    from advisor import rule_lint

    report = rule_lint.lint(advice.load_bank(), paths or [])
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
