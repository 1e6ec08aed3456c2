"""The rationale report in Markdown, self-contained HTML and MADR 4: one Jinja environment per format.

Rule text, titles and answers are data passed into our own templates; they are never
compiled as templates. HTML is autoescaped for every template name (`autoescape=True`,
not `select_autoescape`, which leaves `.html.j2` unescaped); Markdown goes through `md`,
which escapes everything Markdown or its embedded HTML would interpret.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from advisor import __version__, diagram, engine, explain, resources
from advisor.advice import Advice
from advisor.answers import as_text as answer_text
from advisor.errors import InputError
from advisor.rules import OPTION_NAMES as NAMES
from advisor.rules import OPTIONS, Rule

JINJA_FORMATS = {"markdown": "report.md.j2", "html": "report.html.j2", "adr": "adr.md.j2"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")
CHART_WIDTH = 360
# Rule titles open with a capital; after "Good, because" only a name keeps it. The names that
# open shipped rule titles are listed; a word with a second capital (WAMP, RabbitMQ) is a name too.
PROPER_NAMES = frozenset({"Autobahn", "Celery", "Crossbar", "Crossbar.io", "Django", "Flower", "Redis"})


@dataclass(frozen=True)
class DecisionRecord:
    """What only the ADR shows: whose decision it is and whether the team has accepted it.

    MADR's `status` starts as `proposed`; advisor cannot know who decides, so it never
    says `accepted` unless told (`--accept`). https://adr.github.io/madr/
    """

    project: str | None = None
    accepted: bool = False
    # The answers file the hints name; None: the usual names (answers.yml, or the project's own).
    answers_file: str | None = None

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "proposed"


def md(text: Any) -> str:
    """Escape text for Markdown: no raw HTML, links, emphasis or table breaks pass through."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def clause(title: str) -> str:
    """A rule title continuing a sentence ("Good, because a hybrid ..."): the capital goes unless it opens a name."""
    first = title.split(" ", 1)[0].removesuffix("'s")
    if not first or first in PROPER_NAMES or any(char.isupper() for char in first[1:]):
        return title
    return title[0].lower() + title[1:]


def md_url(url: str) -> str:
    """A URL safe inside a Markdown link destination."""
    return quote(url, safe=":/?#=&%@+,;~-._")


def report_date(date: str | None = None) -> str:
    """The given date, else SOURCE_DATE_EPOCH's, else today (UTC)."""
    if date:
        return dt.date.fromisoformat(date).isoformat()
    epoch = source_date_epoch()
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None else dt.datetime.now(dt.UTC)
    return moment.date().isoformat()


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as seconds since 1970, or None when unset or empty.

    The reproducible-builds convention (https://reproducible-builds.org/specs/source-date-epoch/)
    is a decimal integer; anything else is the user's input error, named as such.
    """
    text = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not text:
        return None
    try:
        epoch = int(text) if text.isascii() and text.isdigit() else -1
        dt.datetime.fromtimestamp(epoch, dt.UTC)
    except (OverflowError, OSError, ValueError):
        epoch = -1
    if epoch < 0:
        raise InputError(
            f"environment variable SOURCE_DATE_EPOCH={text!r} is not a date: "
            "expected whole seconds since 1970-01-01 UTC, e.g. 1767225600"
        )
    return epoch


@cache
def _environment(autoescape: bool) -> Any:
    import jinja2

    loader = jinja2.FileSystemLoader(str(resources.templates_dir() / "reports"))
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=md, md_url=md_url, text=answer_text, clause=clause)
    return env


def environment_for(fmt: str) -> Any:
    return _environment(fmt == "html")


def _bar(score: int, top: int, width: int = 20) -> str:
    """A text bar for Markdown and the terminal; scores at or below zero get none."""
    return "█" * round(width * score / top) if score > 0 and top > 0 else ""


def _option_rows(advice: Advice) -> list[dict[str, Any]]:
    """Per option, best first: every fired rule that moved its score, and by how much."""
    top = max(advice.verdict.scores.values())
    rows = []
    for option in advice.verdict.ranked():
        moved = engine.moved(advice.verdict, option)
        rows.append(
            {
                "id": option,
                "name": NAMES[option],
                "score": advice.verdict.scores[option],
                "bar": _bar(advice.verdict.scores[option], top),
                "rules": [{"rule": rule, "points": rule.effects[option]} for rule in moved],
                "good": [r for r in moved if r.effects[option] > 0],
                "bad": [r for r in moved if r.effects[option] < 0],
            }
        )
    return rows


def _chart(verdict: engine.Verdict) -> list[dict[str, Any]]:
    """Bar geometry for the SVG chart: a shared zero line, negative bars to its left."""
    scores = verdict.scores
    low, high = min(0, *scores.values()), max(0, *scores.values())
    span = (high - low) or 1
    zero = round(CHART_WIDTH * -low / span)
    bars = []
    for option in verdict.ranked():
        length = round(CHART_WIDTH * abs(scores[option]) / span)
        start = zero if scores[option] >= 0 else zero - length
        bars.append({"id": option, "name": NAMES[option], "score": scores[option], "x": start, "width": length})
    return [{"zero": zero, **bar} for bar in bars]


def _answers(advice: Advice) -> list[dict[str, Any]]:
    bank = advice.ruleset.questions
    return [
        {
            "id": qid,
            "prompt": question.prompt,
            "value": answer_text(advice.answers[qid]),
            "default": advice.answers[qid] == question.default,
        }
        for qid, question in bank.questions.items()
    ]


def _drivers(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [answer for answer in answers if not answer["default"]]


def _flips(advice: Advice) -> list[dict[str, Any]]:
    lines = explain.flip_lines(advice.answers, advice.flips)[: explain.flips_shown(advice.verdict, advice.flips)]
    bank = advice.ruleset.questions.questions
    return [
        {
            "question": line.question,
            "prompt": bank[line.question].prompt,
            "now": line.now,
            "answer": line.answer,
            "name": line.name,
            "still_fails": explain.flip_suffix(line),
        }
        for line in lines
    ]


def context(
    advice: Advice, chosen: str | None = None, date: str | None = None, record: DecisionRecord = DecisionRecord()
) -> dict[str, Any]:
    """Everything the Markdown, HTML and ADR templates show, computed once."""
    verdict = advice.verdict
    chosen = chosen or verdict.recommendation
    rows = _option_rows(advice)
    answers = _answers(advice)
    chosen_row = next(row for row in rows if row["id"] == chosen)
    system = diagram.build(advice.answers, chosen)
    return {
        "version": __version__,
        "date": report_date(date),
        "project": record.project,
        "status": record.status,
        "answers_file": record.answers_file,
        "verdict": verdict.recommendation,
        "verdict_name": NAMES[verdict.recommendation],
        "chosen": chosen,
        "chosen_name": NAMES[chosen],
        "confidence": verdict.confidence,
        "standing": explain.standing(verdict),
        "tie": verdict.tie,
        "meets_requirements": verdict.meets_requirements,
        "requirements": list(verdict.requirements),
        "fit": explain.fit_rows(verdict),
        "scores": rows,
        "chart": _chart(verdict),
        "chart_width": CHART_WIDTH,
        "diagram": diagram.mermaid(system),
        "diagram_svg": diagram.layout(system),
        "diagram_lines": (lines := diagram.text_lines(system)),
        "diagram_title": "; ".join(lines),
        "reasons": list(verdict.fired[:6]),
        "fired_count": len(verdict.fired),
        "flips": _flips(advice),
        "more_flips": len(advice.flips) - explain.flips_shown(verdict, advice.flips),
        "fragile": explain.fragile_note(verdict, advice.flips),
        "caveats": list(verdict.caveats),
        "good": chosen_row["good"],
        "bad": chosen_row["bad"],
        "answers": answers,
        "drivers": _drivers(answers),
        "rule_count": len(advice.ruleset.rules),
        "names": NAMES,
        "options": OPTIONS,
    }


def render(
    advice: Advice,
    fmt: str,
    chosen: str | None = None,
    date: str | None = None,
    record: DecisionRecord = DecisionRecord(),
) -> str:
    """Render `advice` as markdown, html or adr."""
    template = environment_for(fmt).get_template(JINJA_FORMATS[fmt])
    return str(template.render(**context(advice, chosen, date, record)))


def render_adr(advice: Advice, chosen: str, record: DecisionRecord) -> str:
    """The decision record written into a generated project."""
    return render(advice, "adr", chosen, record=record)


def effects_text(rule: Rule) -> str:
    return ", ".join(f"{option} {points:+d}" for option, points in rule.effects.items())
