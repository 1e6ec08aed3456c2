"""Every report format in one place: `render(advice, fmt)`.

Text, Markdown, HTML and the decision record (ADR) all show one view model (render.view),
computed once per report; JSON is the `advisor.recommendation/2` document (advice.to_json_data).
Imports are lazy so that text and JSON never load Jinja, and JSON not even the view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.advice import Advice

FORMATS = ("text", "markdown", "html", "json", "adr")


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


def render(
    advice: Advice,
    fmt: str,
    date: str | None = None,
    color: bool = False,
    record: DecisionRecord | None = None,
    chosen: str | None = None,
) -> str:
    """The report in one format. `chosen` is the stack a starter was made for (its ADR)."""
    if fmt == "json":
        from advisor.advice import to_json_data

        return json.dumps(to_json_data(advice), indent=2, ensure_ascii=False) + "\n"
    from advisor.render import view

    if fmt == "text":
        from advisor.render import text

        return text.render(view.build(advice, chosen, record=record, dated=False), color)
    from advisor.render import templates

    return templates.render(view.build(advice, chosen, date, record), fmt)
