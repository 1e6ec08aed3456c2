"""Markdown, self-contained HTML and MADR 4, through Jinja, from the view model.

Rule text, titles and answers are data passed into our own templates; they are never
compiled as templates. HTML is autoescaped for every template name (`autoescape=True`,
not `select_autoescape`, which leaves `.html.j2` unescaped). Markdown goes through `md`
(and `md_cell` inside a table), which escape only what CommonMark and GitHub would
interpret at that place, so the source reads as plain prose.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import quote

from advisor import resources
from advisor.render.view import FirstUse, View

JINJA_FORMATS = {"markdown": "report.md.j2", "html": "report.html.j2", "adr": "adr.md.j2"}
# Rule titles open with a capital; after "Good, because" only a name keeps it. The names that
# open shipped rule titles are listed; a word with a second capital (WAMP, RabbitMQ) is a name too.
PROPER_NAMES = frozenset({"Autobahn", "Celery", "Crossbar", "Crossbar.io", "Django", "Flower", "Redis"})

# What CommonMark and GFM interpret inside a line of prose (data never opens a block: every
# template puts words or markup before it), each escaped only where it would take effect:
_MD_ALWAYS = r"[`]"  # a code span opens at any backtick
_MD_BACKSLASH = r"\\(?=[!-/:-@\[-`{-~]|$)"  # a backslash escapes the punctuation after it
_MD_HTML = r"<(?=[A-Za-z/!?])"  # raw HTML or an autolink
_MD_ENTITY = r"&(?=#?[0-9A-Za-z]+;)"  # a character reference
_MD_LINK = r"\](?=[(\[:])"  # ends a link's or image's text
_MD_STAR = r"(?<!\s)\*|\*(?!\s)"  # emphasis, unless spaces surround it (2 * 3)
_MD_UNDERSCORE = r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])"  # emphasis, unless inside a word (no_such_procedure)
_MD_TILDE = r"(?<!\s)~|~(?!\s)"  # strikethrough on GitHub
_MD_SPECIAL = re.compile(
    "|".join((_MD_ALWAYS, _MD_BACKSLASH, _MD_HTML, _MD_ENTITY, _MD_LINK, _MD_STAR, _MD_UNDERSCORE, _MD_TILDE))
)


# Text that opens a list item ("- {{ title }}") could open a block of its own there: a
# heading, a quote, a nested list or a thematic break.
_MD_BLOCK_START = re.compile(r"^>|^(?:#{1,6}|\+)(?=\s|$)|^-(?=\s|$|[-\s]*$)")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def md(text: Any) -> str:
    """Prose for a Markdown line: no raw HTML, link, code or emphasis from data, and no needless escape."""
    escaped = _MD_SPECIAL.sub(lambda match: "\\" + match.group(), " ".join(str(text).split()))
    escaped = _MD_BLOCK_START.sub(lambda match: "\\" + match.group(), escaped)
    return _MD_ORDERED.sub(r"\1\\\2", escaped)


def md_cell(text: Any) -> str:
    """Prose for a Markdown table cell: as `md`, and a pipe kept from ending the cell."""
    return md(text).replace("|", "\\|")


def md_url(url: str) -> str:
    """A URL safe inside a Markdown link destination."""
    return quote(url, safe=":/?#=&%@+,;~-._")


def clause(title: str) -> str:
    """A rule title continuing a sentence ("Good, because a hybrid ..."): the capital goes unless it opens a name."""
    first = title.split(" ", 1)[0].removesuffix("'s")
    if not first or first in PROPER_NAMES or any(char.isupper() for char in first[1:]):
        return title
    return title[0].lower() + title[1:]


def signed(points: int) -> str:
    """Points in a table: +2, -1, and a quiet dot for none."""
    return f"{points:+d}" if points else "·"


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
    env.filters.update(md=md, md_cell=md_cell, md_url=md_url, clause=clause, signed=signed)
    return env


def environment_for(fmt: str) -> Any:
    return _environment(fmt == "html")


def render(view: View, fmt: str) -> str:
    """The view as markdown, html or adr."""
    template = environment_for(fmt).get_template(JINJA_FORMATS[fmt])
    # A fresh FirstUse per report: the template explains each term under its first use.
    return str(template.render(v=view, first_use=FirstUse()))
