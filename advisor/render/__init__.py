"""Every report format in one place: `render(advice, fmt)`.

Text, Markdown, HTML and the decision record (ADR) all show one view model (render.view),
computed once per report; JSON is the `advisor.recommendation/2` document (advice.to_json_data).
Imports are lazy so that text and JSON never load Jinja, and JSON not even the view.
`Format` declares every output format once: `FORMATS` here, `--format`'s choices, the subsets
of `recommend --batch` and `advisor questions`, and the wizard's offers all come from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from advisor.errors import InputError

if TYPE_CHECKING:
    from advisor.advice import Advice
    from advisor.bench.model import BenchResult


class Format(StrEnum):
    """Every output format advisor writes."""

    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"
    adr = "adr"
    csv = "csv"  # a portfolio's table only (recommend --batch): one answer set has no rows


# What render() writes for one answer set.
FORMATS = tuple(fmt for fmt in Format if fmt is not Format.csv)
# What a listing (advisor questions) writes: for people, or for programs.
LISTING_FORMATS = (Format.text, Format.json)
# What `advisor bench` writes: its measurements are not a decision record.
BENCH_FORMATS = (Format.text, Format.json, Format.markdown, Format.html)


def one_of(formats: tuple[Format, ...]) -> str:
    """`text, json or csv`: the formats a command writes, for its error messages."""
    names = [fmt.value for fmt in formats]
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class DecisionRecord:
    """The render options a verdict does not hold: the ADR's project and status, the answers file.

    MADR's `status` starts as `proposed`; advisor cannot know who decides, so it never
    says `accepted` unless told (`--accept`). https://adr.github.io/madr/
    """

    project: str | None = None
    accepted: bool = False
    # The answers file the next steps name; None: answers.yml.
    answers_file: str | None = None

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "proposed"

    @classmethod
    def from_options(cls, fmt: Format, project: str | None, accept: bool, answers_file: str | None) -> DecisionRecord:
        """The record for `recommend`'s options; --project and --accept are refused for other
        formats, which would silently ignore them."""
        if fmt != Format.adr and (project is not None or accept):
            flag = "--project" if project is not None else "--accept"
            raise InputError(f"{flag} is for the decision record: add --format adr")
        if project is not None and not project.strip():
            raise InputError("--project NAME is empty: give the project's name, or leave --project out")
        return cls(project.strip() if project else None, accept, answers_file)


def render(
    advice: Advice,
    fmt: str,
    date: str | None = None,
    color: bool = False,
    record: DecisionRecord | None = None,
    chosen: str | None = None,
    bench: BenchResult | None = None,
) -> str:
    """The report in one format. `chosen` is the stack a starter was made for (its ADR);
    `bench` what `advisor bench` measured (recommend --evidence), shown beside the rules."""
    evidence = None
    if bench is not None:
        from advisor.render import evidence as evidence_mod

        evidence = evidence_mod.build(advice.verdict, bench)
    if fmt == "json":
        from advisor.advice import to_json_data

        data = to_json_data(advice)
        if evidence is not None:
            data["evidence"] = evidence_mod.to_json_data(evidence)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    from advisor.render import view

    if fmt == "text":
        from advisor.render import text

        return text.render(view.build(advice, chosen, record=record, dated=False, evidence=evidence), color)
    from advisor.render import templates

    return templates.render(view.build(advice, chosen, date, record, evidence=evidence), fmt)
