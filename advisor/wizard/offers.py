"""The wizard's offers once the verdict is shown: reports in any formats at once, then the starter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.render import Format
from advisor.wizard.askers import MAX_TRIES, Asker
from advisor.wizard.flow import choose_path

# Each format render() writes, in the order a decider wants them offered: its label and file.
REPORT_FILES = {
    Format.markdown: ("Markdown", "advisor-report.md"),
    Format.html: ("HTML, one self-contained file", "advisor-report.html"),
    Format.adr: ("Decision record, MADR 4", "adr-0001-distribution.md"),
    Format.json: ("JSON", "advisor-report.json"),
    Format.text: ("plain text", "advisor-report.txt"),
}
REPORT_FORMATS = [(fmt.value, f"{label} ({path})") for fmt, (label, path) in REPORT_FILES.items()]
REPORT_PATHS = {fmt.value: path for fmt, (_, path) in REPORT_FILES.items()}


def show_summary(result: Any, color: bool) -> None:
    """The verdict on screen, between the questions and the offers."""
    import typer

    from advisor.render import text as text_report

    typer.echo("")
    typer.echo(text_report.summary(result, color))


def offer_reports(
    asker: Asker, result: Any, accept: bool = False, answers_file: str | None = None, written: list[str] | None = None
) -> list[str]:
    """Offer the reports, any formats at once, each to its own file; returns the paths written.

    Each path is added to `written` as soon as it is written, so an interrupted session can
    say what it left. An existing file is overwritten only when the user says so, and a
    link never (issue 13).
    """
    written = [] if written is None else written
    formats = asker.choose_many("Write the report to files? Tick the formats:", REPORT_FORMATS, ["markdown"])
    for fmt in formats:
        written.append(write_report(asker, result, fmt, accept, answers_file))
    return written


def write_report(asker: Asker, result: Any, fmt: str, accept: bool, answers_file: str | None) -> str:
    """One format to its file, asking for another name where that one is taken or cannot be written."""
    from advisor.errors import AdvisorError
    from advisor.files import write_atomically
    from advisor.render import DecisionRecord, render

    # No project is named yet: the starter, offered next, is where the name comes from.
    text = render(result, fmt, record=DecisionRecord(accepted=accept, answers_file=answers_file))
    path = Path(REPORT_PATHS[fmt])
    for _ in range(MAX_TRIES):
        path = choose_path(asker, path, label="Report file name:")
        try:
            write_atomically(path, text, force=True)  # an existing file only when the user chose to overwrite it
            return str(path)
        except AdvisorError as exc:
            asker.tell(f"  {exc}; choose another name")
            path = Path(asker.text("Report file name:", str(path)).strip() or str(path))
    raise InputError(f"no usable file name for the {fmt} report after {MAX_TRIES} tries")


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
