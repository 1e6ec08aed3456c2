"""The report's first screen decides, in every format, from one view model; each rule and term told once."""

from __future__ import annotations

import html
import re

import golden
import markupsafe
import pytest
from markdown_it import MarkdownIt

from advisor import advice, guide
from advisor.guide import Term, load_guide
from advisor.render import DecisionRecord, render, templates, text, view

RULESET = advice.load_ruleset()
EXAMPLES = {name: golden.EXAMPLES / "answers" / f"{name}.yml" for name in golden.EXPECTED}
# Answer sets found by search, one per way a verdict can be decided (checked in each test).
TIE = {"progress_to_ui": "yes", "router_ha": "yes", "existing_broker": "sqs", "monitoring_ui": "yes"}
NONE_ELIGIBLE = {"missed_messages": "yes", "windows": "yes", "durable_work": "yes", "browser_clients": "none"}
BLOCKED = {"fanout": "yes", "asyncio_first": "yes", "router_ha": "yes"}
MARKDOWN = MarkdownIt("commonmark").enable("table")


def from_sets(answers: dict[str, str]) -> advice.Advice:
    return advice.advise_given(RULESET, None, [f"{qid}={value}" for qid, value in answers.items()])


def example(name: str) -> advice.Advice:
    return advice.advise_given(RULESET, EXAMPLES[name], [])


def every_format(result: advice.Advice) -> dict[str, str]:
    return {fmt: render(result, fmt, "2026-01-01") for fmt in ("text", "markdown", "html")}


# The first screen, then the rest, as each format titles its sections.
ORDER = {
    "text": [
        "Verdict:",
        "Confidence",
        "Fit against your requirements:",
        "Decisive reasons:",
        "Blocking and important caveats:",
        "What would change it:",
        "Operating cost per option:",
        "A staged path:",
        "Next steps:",
        "Details: every rule that moved the scores:",
        "Points per option:",
        "Consequences of choosing",
        "Architecture:",
        "Answers:",
    ],
    "markdown": [
        "**Verdict:",
        "Confidence",
        "## Fit against your requirements",
        "## Decisive reasons",
        "## Blocking and important caveats",
        "## What would change it",
        "## Operating cost per option",
        "## A staged path",
        "## Next steps",
        "## Details",
        "### Every rule that moved the scores",
        "### Points per option",
        "### Consequences of choosing",
        "### Architecture",
        "### Answers",
    ],
    "html": [
        "<h1>Verdict:",
        "Confidence",
        'id="fit">',
        'id="reasons">',
        'id="caveats">',
        'id="flips">',
        'id="costs">',
        'id="stages">',
        'id="next">',
        'id="why">',
        'id="breakdown">',
        'id="consequences">',
        'id="architecture">',
        'id="answers">',
    ],
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_first_screen_comes_first_in_the_same_order_in_every_format(name: str) -> None:
    for fmt, report in every_format(example(name)).items():
        places = [report.find(heading) for heading in ORDER[fmt]]
        assert -1 not in places, (fmt, [h for h, at in zip(ORDER[fmt], places, strict=True) if at == -1])
        assert places == sorted(places), fmt


def test_only_the_details_fold_in_html() -> None:
    page = render(example("import-tracker"), "html", "2026-01-01")
    first_fold = page.index("<details>")
    assert page.index('id="next">') < first_fold < page.index('id="why">')


def test_the_fit_table_marks_each_requirement_per_option() -> None:
    result = example("import-tracker")
    model = view.build(result)
    assert [need.rule for need in model.requirements] == ["durable-work-needs-a-queue"]
    fit = {row.option: (row.eligible, row.meets) for row in model.fit}
    assert fit == {
        "hybrid": (True, (True,)),
        "celery": (True, (True,)),
        "crossbar": (False, (False,)),
        "neither": (False, (False,)),
    }
    markdown = render(result, "markdown", "2026-01-01")
    assert "| option | eligible | score | R1 |" in markdown
    assert "| Crossbar.io | no | -2 | fails |" in markdown


def test_without_requirements_every_option_is_eligible() -> None:
    result = from_sets({"latency": "realtime"})
    assert result.verdict.requirements == ()
    for report in every_format(result).values():
        assert "every option is eligible" in report
    assert "| option | eligible | score |\n" in render(result, "markdown")


def test_the_decisive_reasons_are_what_separates_the_top_two_not_the_heaviest_rules() -> None:
    result = example("import-tracker")
    verdict = result.verdict
    assert (verdict.recommendation, verdict.runner_up) == ("hybrid", "celery")
    reasons = [reason.rule for reason in view.build(result).reasons]
    assert len(reasons) == 3
    heaviest = sorted(verdict.fired, key=lambda rule: (-rule.effects.get("hybrid", 0), rule.id))[:3]
    # The heaviest rules give Hybrid and Celery the same 3 points: they decide nothing between them.
    assert all(rule.effects.get("hybrid") == rule.effects.get("celery") == 3 for rule in heaviest)
    assert not {rule.id for rule in heaviest} & set(reasons)
    by_id = {rule.id: rule for rule in verdict.fired}
    gaps = [by_id[rule].effects.get("hybrid", 0) - by_id[rule].effects.get("celery", 0) for rule in reasons]
    assert gaps == sorted(gaps, reverse=True) and min(gaps) > 0


def test_each_decisive_reason_says_in_words_what_it_is_worth() -> None:
    result = example("import-tracker")
    reasons = {reason.rule: reason for reason in view.build(result).reasons}
    browser = reasons["celery-no-browser-protocol"]
    assert browser.text == "Pages cannot call Celery; browser RPC needs a router or an API of your own"
    assert browser.points == "3 points for Hybrid over Celery"
    assert reasons["crossbar-wamp-router-live-messaging"].points == "2 points for Hybrid over Celery"
    for fmt, report in every_format(result).items():
        # One line of the report, with the short name: the long one is in the verdict above it.
        assert "3 points for Hybrid over Celery; " in _flat(fmt, report), fmt
        assert "points between them" not in report and "Hybrid (Celery + Crossbar.io) 0" not in report, fmt


def test_the_terminal_first_screen_tells_each_caveat_by_its_first_sentence() -> None:
    result = example("import-tracker")
    model = view.build(result)
    report = _flat("text", render(result, "text"))
    flips, in_full = report.index("What would change it:"), report.index("Caveats in full:")
    shortened = [caveat for caveat in model.caveats if not caveat.told_in_gist]
    assert len(shortened) == 4
    for caveat in shortened:
        assert report.find(f"{caveat.title}. {caveat.gist} ({caveat.rule})") < flips, caveat.rule
        assert report.find(" ".join(caveat.because.split())) > in_full, caveat.rule
    assert len(render(result, "text").split("What would change it:")[0].splitlines()) < 65
    # The wizard's closing screen has no details to point to: it tells each caveat in full.
    closing = _flat("text", text.summary(result))
    assert "Caveats in full" not in closing
    assert all(" ".join(caveat.because.split()) in closing for caveat in model.caveats)


def test_a_tie_says_what_decides_instead_of_listing_reasons() -> None:
    result = from_sets(TIE)
    assert result.verdict.tie
    model = view.build(result)
    assert model.reasons == ()
    assert "tie goes to the simpler stack, Neither yet" in model.reasons_note


def test_with_no_option_eligible_the_report_says_the_requirements_decide() -> None:
    result = from_sets(NONE_ELIGIBLE)
    assert not result.verdict.meets_requirements
    model = view.build(result)
    assert "No option meets every requirement" in model.fit_note
    assert "no option meets every requirement" in model.standing
    assert model.reasons_note


def test_confidence_says_what_it_means_here() -> None:
    medium = view.build(example("import-tracker")).standing
    assert medium.startswith("Confidence medium: Hybrid (Celery + Crossbar.io) leads Celery by 3 points")
    assert "High needs a lead of 6 with every requirement met and no blocking caveat" in medium
    blocked = from_sets(BLOCKED)
    assert blocked.verdict.blocking
    assert "a blocking caveat keeps it below high" in view.build(blocked).standing


def test_blocking_and_important_caveats_open_the_report_and_notes_wait_in_the_details() -> None:
    result = example("import-tracker")
    model = view.build(result)
    assert {caveat.severity for caveat in model.caveats} == {"important"} and model.notes
    for fmt, report in every_format(result).items():
        flat = _flat(fmt, report)
        details, flips = flat.index(ORDER[fmt][9]), flat.index(ORDER[fmt][5])
        for caveat in model.caveats:
            assert 0 < flat.find(_escaped(fmt, caveat.title)) < flips, (fmt, caveat.rule)
        for note in model.notes:
            assert flat.find(_escaped(fmt, note.title)) > details, (fmt, note.rule)


def _escaped(fmt: str, text: str) -> str:
    if fmt == "markdown":
        return templates.md(text)
    return str(markupsafe.escape(text)) if fmt == "html" else text


def _flat(fmt: str, report: str) -> str:
    """The report's text with its line breaks undone (the terminal report wraps at 80 columns)."""
    return " ".join(report.split()) if fmt == "text" else report


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_rule_is_told_in_full_once(name: str) -> None:
    result = example(name)
    model = view.build(result)
    told = [*model.why, *model.needs, *model.caveats, *model.notes]
    fired = {*result.verdict.fired, *result.verdict.requirements, *result.verdict.caveats}
    assert {item.rule for item in told} == {rule.id for rule in fired}
    for fmt, report in every_format(result).items():
        flat = _flat(fmt, report)
        for item in told:
            because = " ".join(_escaped(fmt, item.because).split())
            assert flat.count(because) == 1, (fmt, item.rule)


def _without_markup(fmt: str, report: str) -> str:
    if fmt == "html":
        report = re.sub(r"</?(?:dfn|strong|span|a)\b[^>]*>", "", report)
        report = html.unescape(re.sub(r"<code>.*?</code>|<[^>]+>", " ", report))
    return report


def _without_code(report: str) -> str:
    """Prose only: no code, ids, commands or URLs, where a term is not a use of it (each
    blanked out in place, so that places in the report stay where they were)."""
    code = r"```.*?```|`[^`]*`|\(rule [^)]*\)|\([a-z0-9-]+\)|https?://\S+"
    return re.sub(code, lambda match: " " * len(match.group()), report, flags=re.DOTALL)


def _entry(fmt: str, term: Term) -> str:
    """How a "Terms:" line explains `term` in `fmt`."""
    if fmt in ("markdown", "adr"):
        return f"**{templates.md(term.term)}**: {templates.md(term.meaning)}."
    return f"{term.term}: {term.meaning}."


def _prose_and_entries(fmt: str, report: str) -> tuple[str, dict[Term, int]]:
    """The report's prose with every term's explanation blanked out (a meaning is not a use of
    the terms it mentions), and where each explained term's explanation is."""
    entries = {}
    for term in (view.POINTS, *load_guide().terms):
        entry = _entry(fmt, term)
        if entry in report:
            assert report.count(entry) == 1, (fmt, term.term)
            entries[term] = report.index(entry)
            report = report.replace(entry, " " * len(entry))
    return report, entries


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "adr"])
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_term_is_explained_once_right_after_the_item_that_first_uses_it(name: str, fmt: str) -> None:
    report = _flat(fmt, _without_markup(fmt, render(example(name), fmt, "2026-01-01")))
    prose, entries = _prose_and_entries(fmt, report)
    prose = _without_code(prose)
    assert view.POINTS in entries and len(entries) > 5
    for term in (view.POINTS, *load_guide().terms):
        first = next(guide.uses(guide.term_pattern(term.term), prose), None)
        if first is None:
            assert term not in entries, term.term  # explained only where used
            continue
        assert term in entries, term.term
        # The explanation is in the first "Terms:" line after the first use: the item's own.
        between = prose[first.end() : entries[term]]
        assert between.count("Terms:") == 1, (term.term, prose[first.start() - 80 : entries[term] + 80])


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_the_confidence_line_explains_points(fmt: str) -> None:
    report = _flat(fmt, _without_markup(fmt, render(example("orders-worker"), fmt, "2026-01-01")))
    fit = "Fit against your requirements" if fmt == "html" else ORDER[fmt][2]
    assert -1 < report.find(_entry(fmt, view.POINTS)) < report.find(fit), fmt


def test_the_text_is_left_as_written() -> None:
    """A term is explained under its item, never inside the sentence that uses it."""
    model = view.build(example("import-tracker"))
    caveat = next(caveat for caveat in model.caveats if caveat.rule == "acks-late-needs-idempotent-tasks")
    assert caveat.title == "At-least-once delivery means tasks can run twice and must be idempotent"
    assert [term.term for term in caveat.terms][:3] == ["at-least-once", "idempotent", "acks_late"]
    for fmt, report in every_format(example("import-tracker")).items():
        assert _escaped(fmt, caveat.title) in _flat(fmt, report), fmt


def _steps(result: advice.Advice) -> str:
    return " ".join(step.text + " " + " ".join(step.commands) for step in view.build(result).steps)


def test_next_steps_fit_the_verdict() -> None:
    hybrid = example("import-tracker")
    assert hybrid.verdict.confidence == "medium"
    steps = _steps(hybrid)
    assert "EUPL-1.2 licence reviewed" in steps
    assert "proof of concept of the two closest options, Hybrid (Celery + Crossbar.io) and Celery" in steps
    assert "advisor new poc-hybrid --stack hybrid --answers answers.yml" in steps
    assert "advisor new poc-celery --stack celery --answers answers.yml" in steps
    assert "advisor new my-service --answers answers.yml" in steps and "advisor check my-service" in steps
    assert "advisor bench --quick --format json --output bench.json" in steps
    assert "advisor recommend --answers answers.yml --evidence bench.json" in steps
    celery = example("orders-worker")
    assert celery.verdict.confidence == "high"
    steps = _steps(celery)
    assert "licence" not in steps and "proof of concept" not in steps
    assert "advisor new my-service" in steps


def test_next_steps_for_neither_never_scaffold() -> None:
    neither = from_sets({})
    assert neither.verdict.recommendation == "neither"
    steps = _steps(neither)
    assert "advisor new" not in steps and "advisor check" not in steps and "advisor bench" not in steps
    assert "advisor recommend --answers answers.yml" in steps
    for report in every_format(neither).values():
        assert "advisor new" not in report


def test_a_given_answer_equal_to_its_default_is_labelled_answered() -> None:
    default_size = RULESET.questions.questions["team_size"].default
    result = from_sets({"team_size": str(default_size), "durable_work": "yes"})
    labels = {answer.question: answer.given for answer in view.build(result).answers}
    assert labels["team_size"] is True and labels["durable_work"] is True
    assert labels["scheduling"] is False
    markdown = render(result, "markdown")
    assert (
        f"| `team_size`: How many engineers will build and operate it? | `{default_size}` | **answered** |" in markdown
    )
    assert re.search(r"^team_size = \S+ \(answered\)", render(result, "text").replace("  ", ""), re.MULTILINE)


def test_advice_built_without_knowing_what_was_given_labels_by_value() -> None:
    """The wizard's and older callers' Advice: a value away from its default counts as answered."""
    answers = {**RULESET.questions.defaults(), "durable_work": True}
    labels = {answer.question: answer.given for answer in view.build(advice.advise(RULESET, answers)).answers}
    assert labels["durable_work"] is True and labels["team_size"] is False


def _bundled_texts() -> list[str]:
    texts = [text for rule in RULESET.rules for text in (rule.title, rule.because)]
    return texts + [question.prompt for question in RULESET.questions.questions.values()]


HOSTILE = [
    "<script>alert(1)</script> and <img src=x onerror=alert(2)>",
    "[x](javascript:alert(1)) ![i](http://x/y.png) [ref]: http://evil",
    "**bold** __also__ *em* _em_ ~~struck~~ ~one~ `code` ``two``",
    "a \\* b \\ c \\\\ &amp; &#60; &copy; & plain",
    "cell | pipe <http://autolink> www.example.org",
    "snake_case_name _lead trail_ 2 * 3 a*b*c",
]


@pytest.mark.parametrize("text", HOSTILE + _bundled_texts())
def test_markdown_escaping_keeps_text_as_text(text: str) -> None:
    for escaped in (templates.md(text), templates.md_cell(text)):
        rendered = MARKDOWN.renderInline(escaped)
        assert not re.search(r"<[a-z/]", rendered), rendered
        assert html.unescape(rendered) == " ".join(text.split())


BLOCK_STARTS = ["# heading", "> quote", ">quote", "- item", "+ item", "1. item", "2) item", "---", "- - -"]


@pytest.mark.parametrize("text", [*BLOCK_STARTS, "-- flag", "12.5 ms", "3 points", "#hash"])
def test_data_opening_a_list_item_opens_no_block_of_its_own(text: str) -> None:
    shown = MARKDOWN.render(f"- {templates.md(text)}\n")
    assert shown == f"<ul>\n<li>{html.escape(text, quote=False)}</li>\n</ul>\n"
    assert (templates.md(text) == text) is (text not in BLOCK_STARTS)  # escaped only when it must be


def test_a_pipe_from_data_keeps_a_table_row_whole() -> None:
    row = f"| {templates.md_cell('a | b')} | two |\n"
    tokens = MARKDOWN.parse("| h1 | h2 |\n|---|---|\n" + row)
    cells = [token.content for token in tokens if token.type == "inline"]
    assert cells == ["h1", "h2", "a | b", "two"]


def _needless(escaped: str) -> list[str]:
    """The escapes that change nothing: removing one renders the same."""
    rendered = MARKDOWN.renderInline(escaped)
    found = []
    for match in re.finditer(r"\\(?=[!-/:-@\[-`{-~])", escaped):
        without = escaped[: match.start()] + escaped[match.end() :]
        if MARKDOWN.renderInline(without) == rendered:
            found.append(escaped[max(0, match.start() - 20) : match.end() + 20])
    return found


def test_bundled_rule_text_needs_no_escape_in_markdown() -> None:
    needless = {text: _needless(templates.md(text)) for text in _bundled_texts()}
    assert {text: found for text, found in needless.items() if found} == {}
    assert all(templates.md(text) == " ".join(text.split()) for text in _bundled_texts())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_golden_markdown_has_no_needless_escapes(name: str) -> None:
    source = (golden.EXAMPLES / "reports" / f"{name}.md").read_text(encoding="utf-8")
    prose = [line for line in source.split("```")[0::2] for line in line.splitlines()]
    escapes = [line for line in prose if re.search(r"\\[()_#&+!.\-]", line)]
    assert escapes == []
    # A pipe is escaped only inside a table row, where it would end the cell.
    assert [line for line in prose if "\\|" in line and not line.startswith("|")] == []


def test_the_decision_record_takes_its_content_from_the_view() -> None:
    result = example("import-tracker")
    model = view.build(result, record=DecisionRecord(project="board"))
    adr = render(result, "adr", "2026-01-01", record=DecisionRecord(project="board"))
    assert all(templates.md(reason.text) in adr for reason in model.reasons)
    assert model.standing in adr
