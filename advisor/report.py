"""Rendering reports with Jinja: one environment per format, StrictUndefined, no user template.

Rule text and answers are data passed into our own templates; they are never compiled as
templates themselves. Markdown output escapes the characters Markdown would interpret.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

from advisor import __version__, resources
from advisor.advice import Advice
from advisor.rules import OPTIONS, Rule

NAMES = {"celery": "Celery", "crossbar": "Crossbar.io", "hybrid": "Hybrid (Celery + Crossbar.io)"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: Any) -> str:
    """Escape text for Markdown: no raw HTML, links, emphasis or table breaks pass through."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def report_date() -> str:
    """Today, or SOURCE_DATE_EPOCH's date so that generated files are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.date().isoformat()


def _environment() -> Any:
    import jinja2

    loader = jinja2.FileSystemLoader(str(resources.templates_dir() / "reports"))
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = md
    return env


def _options(advice: Advice) -> list[dict[str, Any]]:
    """Per option: the fired rules that argue for it and against it."""
    fired = [rule for rule in advice.ruleset.rules if rule in advice.verdict.fired]
    rows = []
    for option in OPTIONS:
        rows.append({
            "id": option,
            "name": NAMES[option],
            "score": advice.verdict.scores[option],
            "good": sorted((r for r in fired if r.effects.get(option, 0) > 0), key=lambda r: r.id),
            "bad": sorted((r for r in fired if r.effects.get(option, 0) < 0), key=lambda r: r.id),
        })
    return rows


def adr_context(advice: Advice, chosen: str) -> dict[str, Any]:
    verdict = advice.verdict
    return {
        "chosen": chosen,
        "chosen_name": NAMES[chosen],
        "recommended": verdict.recommendation,
        "recommended_name": NAMES[verdict.recommendation],
        "confidence": verdict.confidence,
        "margin": verdict.margin,
        "date": report_date(),
        "version": __version__,
        "answers": advice.answers,
        "reasons": list(verdict.fired[:5]),
        "caveats": list(verdict.caveats),
        "options": _options(advice),
        "flips": [{"question": f.question, "answer": _text(f.answer), "recommendation": NAMES[f.recommendation]}
                  for f in advice.flips],
        "names": NAMES,
        "text": _text,
    }


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def render_adr(advice: Advice, chosen: str) -> str:
    """The decision record in MADR 4 format."""
    return str(_environment().get_template("adr.md.j2").render(**adr_context(advice, chosen)))


def effects_text(rule: Rule) -> str:
    return ", ".join(f"{option} {points:+d}" for option, points in rule.effects.items())
