"""Rendering a verdict in one of the report formats; only Markdown, HTML and ADR load Jinja."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from advisor import advice

if TYPE_CHECKING:  # report loads Jinja's helpers; text and JSON never import it
    from advisor.report import DecisionRecord

FORMATS = ("text", "markdown", "html", "json", "adr")


def render(
    result: advice.Advice,
    output_format: str,
    date: str | None = None,
    color: bool = False,
    record: DecisionRecord | None = None,
) -> str:
    """The report in one format; only Markdown, HTML and ADR load Jinja. `record` is the ADR's status and project."""
    if output_format == "json":
        return json.dumps(advice.to_json_data(result), indent=2, ensure_ascii=False) + "\n"
    if output_format == "text":
        from advisor import textout

        return textout.render(result, color, (record and record.answers_file) or "answers.yml")
    from advisor import report

    return report.render(result, output_format, date=date, record=record or report.DecisionRecord())
