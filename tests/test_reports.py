"""Reports in every format: golden files, hostile text kept as text, and the HTML in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import golden
import pytest
from conftest import Result

from advisor import advice
from advisor.render import render, templates
from advisor.render import text as text_report

Run = Callable[..., Result]
HOSTILE_TITLE = "<script>alert(1)</script> | [x](javascript:alert(1)) {{ 7*7 }} **bold** # h"
HOSTILE_BECAUSE = "<img src=x onerror=alert(2)> `code` ~~s~~ {% raw %} & \"quoted\" 'single'"


def test_committed_reports_match_a_fresh_regeneration(tmp_path: Path) -> None:
    golden.regenerate_reports(tmp_path)
    committed = golden.EXAMPLES / "reports"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in committed.iterdir())
    assert len(list(committed.iterdir())) == len(golden.EXPECTED) * len(golden.REPORT_FILES) + 1  # + evidence
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), f"{path.name}: run tests/golden.py"


def test_html_templates_are_autoescaped() -> None:
    env = templates.environment_for("html")
    assert env.autoescape is True
    assert templates.environment_for("markdown").autoescape is False


@pytest.fixture
def hostile_rules(tmp_path: Path) -> Path:
    """A user's rule directory whose text tries every injection the formats are open to."""
    directory = tmp_path / "hostile"
    directory.mkdir()
    rule = {
        "id": "hostile-rule",
        "title": HOSTILE_TITLE,
        "when": {"team_size": {"at_least": 1}},
        "effects": {"celery": 5},
        "because": HOSTILE_BECAUSE,
        "sources": ["https://example.org/a(b)c?d=1&e=2"],
    }
    caveat = {**rule, "id": "hostile-caveat", "kind": "caveat"}
    del caveat["effects"]
    (directory / "hostile.yaml").write_text(json.dumps({"version": 1, "rules": [rule, caveat]}), encoding="utf-8")
    return directory


def _render_all(run: Run, rules: Path) -> dict[str, str]:
    formats = ("text", "markdown", "html", "json", "adr")
    outputs = {fmt: run("recommend", "--defaults", "--rules", str(rules), "--format", fmt) for fmt in formats}
    assert all(result.code == 0 for result in outputs.values()), {f: r.err for f, r in outputs.items()}
    return {fmt: result.out for fmt, result in outputs.items()}


def test_hostile_rule_text_stays_text_in_html(run: Run, hostile_rules: Path) -> None:
    html = _render_all(run, hostile_rules)["html"]
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html
    assert "javascript:" not in re.findall(r'href="([^"]*)"', html)[0]
    assert 'href="https://example.org/a(b)c?d=1&amp;e=2"' in html


def test_hostile_rule_text_stays_text_in_markdown(run: Run, hostile_rules: Path) -> None:
    from markdown_it import MarkdownIt

    outputs = _render_all(run, hostile_rules)
    for fmt in ("markdown", "adr"):
        # What GitHub would show: no tag, script or link from the rule's text gets through.
        shown = MarkdownIt("commonmark").enable("table").render(outputs[fmt])
        assert "<script" not in shown and "<img" not in shown
        assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', shown))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "[1](https://example.org/a%28b%29c?d=1&e=2)" in outputs["markdown"]


def test_terminal_output_carries_no_escape_sequences(run: Run, hostile_rules: Path) -> None:
    text = _render_all(run, hostile_rules)["text"]
    assert "\x1b" not in text
    assert "{{ 7*7 }}" in text


def test_control_characters_in_data_are_shown_escaped() -> None:
    assert text_report.clean("a\x1b]0;pwned\x07b") == "a\\x1b]0;pwned\\x07b"


def test_colour_only_where_the_terminal_wants_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor import cli

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert cli._wants_color() is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._wants_color() is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert cli._wants_color() is False
    monkeypatch.delenv("TERM")
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert cli._wants_color() is False
    ruleset = advice.load_ruleset()
    result = advice.advise(ruleset, advice.resolve_answers(ruleset.questions, None, []))
    assert "\x1b[1;32mVerdict:" in render(result, "text", color=True)
    assert "\x1b" not in render(result, "text", color=False)


def test_every_format_has_every_section(run: Run) -> None:
    args = ("recommend", "--answers", str(golden.EXAMPLES / "answers/import-tracker.yml"), "--date", "2026-01-01")
    markdown = run(*args, "--format", "markdown").out
    html = run(*args, "--format", "html").out
    text = run(*args, "--format", "text").out
    for heading in (
        "Fit against your requirements",
        "Decisive reasons",
        "Blocking and important caveats",
        "What would change it",
        "Operating cost per option",
        "A staged path",
        "Next steps",
        "Points per option",
        "Consequences of choosing",
        "Architecture",
        "Answers",
    ):
        assert re.search(f"^##+ {heading}", markdown, re.MULTILINE), heading
        assert f">{heading}" in html, heading
        assert re.search(f"^{heading}.*:$", text, re.MULTILINE), heading
    assert "```mermaid\nflowchart LR" in markdown
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert "(answered)" in text and "| **answered** |" in markdown


def test_html_is_self_contained(run: Run) -> None:
    html = run("recommend", "--answers", str(golden.EXAMPLES / "answers/live-board.yml"), "--format", "html").out
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in html
    for external in ("<script", "<link", "@import", " src=", "url(http", "url(data"):
        assert external not in html
    # Absolute URLs appear only as link targets, which load nothing.
    stripped = re.sub(r'href="https://[^"]*"', "", html).replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in stripped and "https://" not in stripped


def test_the_date_option_fixes_the_date(run: Run) -> None:
    adr = run("recommend", "--defaults", "--format", "adr", "--date", "2025-06-30").out
    assert adr.startswith("---\n") and "\nstatus: proposed\ndate: 2025-06-30\n" in adr
    assert run("recommend", "--defaults", "--format", "adr", "--date", "30/06/2025").code == 2


def test_the_adr_is_madr_4(run: Run) -> None:
    adr = run("recommend", "--answers", str(golden.EXAMPLES / "answers/orders-worker.yml"), "--format", "adr").out
    for heading in (
        "## Context and Problem Statement",
        "## Decision Drivers",
        "## Considered Options",
        "## Decision Outcome",
        "### Consequences",
        "### Confirmation",
        "## Pros and Cons of the Options",
        "## More Information",
    ):
        assert heading in adr
    assert 'Chosen option: "Celery", because the advisor recommends it' in adr
    assert "**critical** (`scheduling`)" in adr


def _chromium() -> str:
    """The browser alone: a report needs no broker, router or JS client (example_env checks those)."""
    import test_examples

    return test_examples._external("ADVISOR_CHROMIUM", Path("/usr/bin/chromium"), "chromium")


@pytest.mark.slow
def test_html_report_renders_in_chromium_without_errors_or_requests(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    page_file = golden.EXAMPLES / "reports" / "import-tracker.html"
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for scheme in ("light", "dark"):
            page = browser.new_page(color_scheme=scheme, viewport={"width": 1000, "height": 1400})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            assert page.locator("h1").inner_text() == "Verdict: Hybrid (Celery + Crossbar.io)"
            # The architecture is a detail: folded until asked for.
            assert not page.locator("svg.arch").is_visible()
            page.locator("summary:has(#architecture)").click()
            assert page.locator("svg.arch").is_visible()
            page.screenshot(path=str(tmp_path / f"report-{scheme}.png"), full_page=True)
            page.close()
        browser.close()
    assert errors == []
    assert requests == [page_file.as_uri()] * 2
    assert (tmp_path / "report-light.png").stat().st_size > 10_000
    print(f"screenshots for review: {tmp_path}")


# The four outcomes: the three examples' answers, and the defaults (neither yet).
ADR_ANSWERS = {
    "celery": ("--answers", str(golden.EXAMPLES / "answers/orders-worker.yml")),
    "crossbar": ("--answers", str(golden.EXAMPLES / "answers/live-board.yml")),
    "hybrid": ("--answers", str(golden.EXAMPLES / "answers/import-tracker.yml")),
    "neither": ("--defaults",),
}


def _adr(run: Run, *args: str) -> tuple[dict[str, object], str]:
    """The ADR's front matter (as YAML reads it) and its body."""
    import yaml

    result = run("recommend", *args, "--format", "adr", "--date", "2026-03-04")
    assert result.code == 0, result.err
    _, front, body = result.out.split("---\n", 2)
    return yaml.safe_load(front), body


def test_the_adr_is_a_proposal_until_the_team_accepts_it(run: Run) -> None:
    proposed, _ = _adr(run, "--defaults")
    accepted, _ = _adr(run, "--defaults", "--accept")
    assert proposed["status"] == "proposed"
    assert (accepted["status"], str(accepted["date"])) == ("accepted", "2026-03-04")


def test_the_adr_leaves_who_decides_to_the_team(run: Run) -> None:
    front, _ = _adr(run, "--defaults", "--accept")
    # Quoted placeholders: a YAML reader gets text to replace, not an invented team or a mapping.
    assert front["decision-makers"] == "{list everyone involved in the decision}"
    assert front["consulted"] == "{list everyone whose opinions are sought}"
    assert front["informed"] == "{list everyone who is kept up to date}"


def test_the_adr_names_the_project_in_its_title_and_context(run: Run) -> None:
    _, named = _adr(run, *ADR_ANSWERS["celery"], "--project", "Acme invoicing")
    _, unnamed = _adr(run, *ADR_ANSWERS["celery"])
    assert "\n# Use Celery to distribute Acme invoicing\n" in named
    assert "\nThe Acme invoicing project may have to distribute its work" in named
    assert "\n# Use Celery to distribute the application\n" in unnamed


def test_a_neither_adr_says_to_keep_one_process(run: Run) -> None:
    _, body = _adr(run, "--defaults", "--project", "Acme invoicing")
    assert "\n# Keep Acme invoicing in one process for now: neither Celery nor Crossbar.io yet\n" in body
    # Confirmed by asking again, not by a starter's tests: "neither" has no starter.
    confirmation = body.split("### Confirmation", 1)[1].split("\n## ", 1)[0]
    assert "advisor recommend --answers" in confirmation
    assert "scripts/test" not in confirmation and "advisor check" not in confirmation


@pytest.mark.parametrize("outcome", sorted(ADR_ANSWERS))
def test_adr_bullets_are_one_style_in_every_outcome(run: Run, outcome: str) -> None:
    _, body = _adr(run, *ADR_ANSWERS[outcome])
    items = [line for line in body.splitlines() if re.match(r"\s*([-+*]|\d+[.)])\s", line)]
    assert items and all(line.startswith("* ") for line in items)
    # "Good, because ..." continues a sentence: only a name keeps its capital.
    continued = re.findall(r"^\* (?:Good|Bad|Neutral), because (\S+)", body, re.MULTILINE)
    assert continued
    capitalised = {word for word in continued if word[0].isupper()}
    assert all(templates.clause(word) == word for word in capitalised), capitalised


@pytest.mark.parametrize("flag", [("--accept",), ("--project", "Acme")])
def test_adr_options_with_another_format_are_refused(run: Run, flag: tuple[str, ...]) -> None:
    result = run("recommend", "--defaults", "--format", "markdown", *flag)
    assert result.code == 2
    assert f"{flag[0]} is for the decision record: add --format adr" in result.err
    assert result.out == ""


# Everything on the page that shows text, with its size as the reader sees it: HTML text by its
# computed font size, SVG <text> by font size times the SVG's scale on screen (a 13 px label in
# a viewBox squeezed to a third of its width reads as 4 px). Collapsed <details> are opened first,
# so nothing escapes the check by being folded away.
_SMALL_TEXT_JS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!own || el.closest('title, style, script') || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    let size = parseFloat(style.fontSize);
    if (el instanceof SVGElement) { size *= el.getScreenCTM().a; }
    if (size < 11) small.push(`${el.tagName} ${size.toFixed(1)}px: ${el.textContent.trim().slice(0, 40)}`);
  }
  return small;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 800, 1280])  # phone, between the breakpoints, desktop
def test_html_reports_fit_the_screen_and_stay_legible_in_chromium(width: int) -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    pages = sorted((golden.EXAMPLES / "reports").glob("*.html"))
    assert len(pages) == len(golden.EXPECTED)
    problems: dict[str, object] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        for page_file in pages:
            page.goto(page_file.as_uri())
            # No sideways scrolling of the page itself (a table may scroll inside its own box).
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems[f"{page_file.name} scroll width"] = scroll_width
            small = page.evaluate(_SMALL_TEXT_JS)
            if small:
                problems[f"{page_file.name} text under 11 px"] = small[:8]
            # Opening every section must not make the page wider either.
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems[f"{page_file.name} scroll width, details open"] = scroll_width
        browser.close()
    assert problems == {}


@pytest.mark.slow
def test_html_report_folds_the_details_and_prints_them_unfolded() -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    page_file = golden.EXAMPLES / "reports" / "import-tracker.html"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 900})
        page.goto(page_file.as_uri())
        # The first screen decides: verdict, the fit table and the reasons are shown unfolded.
        for visible in (
            "h1",
            "section[aria-labelledby=fit] table",
            "section[aria-labelledby=reasons] li",
            "section[aria-labelledby=caveats] li",
            "section[aria-labelledby=next] li",
        ):
            assert page.locator(visible).first.is_visible(), visible
        breakdown = page.locator("details:has(#breakdown)")
        assert breakdown.count() == 1
        assert not page.locator("section[aria-labelledby=breakdown] table").first.is_visible()
        page.locator("summary:has(#breakdown)").click()
        assert page.locator("section[aria-labelledby=breakdown] table").first.is_visible()
        page.locator("summary:has(#breakdown)").click()
        # On paper every folded section is printed open and nothing sticks out sideways.
        page.emulate_media(media="print")
        assert page.locator("section[aria-labelledby=breakdown] table").first.is_visible()
        assert page.locator("section[aria-labelledby=answers] table").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
