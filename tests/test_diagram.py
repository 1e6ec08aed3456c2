"""The architecture diagram shows the user's system: what they answered and the outcome, in every format."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import Result

from advisor import advice, diagram
from advisor.render import render

RULESET = advice.load_ruleset()
EVERYTHING = {
    "browser_clients": "rpc",
    "scheduling": "light",
    "existing_broker": "rabbitmq",
    "iot_devices": "true",
    "polyglot": "true",
}


def result_for(answers: dict[str, str]) -> advice.Advice:
    sets = [f"{qid}={value}" for qid, value in answers.items()]
    return advice.advise(RULESET, advice.resolve_answers(RULESET.questions, None, sets))


def mermaid_block(answers: dict[str, str], outcome: str) -> str:
    """The Mermaid source in the Markdown report drawn for `outcome`."""
    markdown = render(result_for(answers), "markdown", "2026-01-01", chosen=outcome)
    found = re.search(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL)
    assert found, "the Markdown report has no Mermaid diagram"
    return found.group(1)


@pytest.mark.parametrize(
    ("answers", "outcome", "present", "absent"),
    [
        ({}, "celery", ["Your web application", "Broker: Redis (new, to run)"], ["Browsers", "beat", "IoT"]),
        (
            {"existing_broker": "rabbitmq", "scheduling": "critical"},
            "celery",
            ["Broker: RabbitMQ", "celery beat"],
            ["Redis", "SQS", "Browsers"],
        ),
        (
            {"existing_broker": "sqs", "browser_clients": "push"},
            "hybrid",
            ["Amazon SQS", "Browsers"],
            ["Redis", "beat"],
        ),
        ({"existing_broker": "redis", "iot_devices": "true"}, "crossbar", ["IoT devices"], ["Broker", "Browsers"]),
        ({"scheduling": "light", "browser_clients": "push"}, "neither", ["Browsers", "cron"], ["beat", "Broker"]),
    ],
)
def test_diagram_shows_only_what_the_answers_describe(
    answers: dict[str, str], outcome: str, present: list[str], absent: list[str]
) -> None:
    source = mermaid_block(answers, outcome)
    for label in present:
        assert label in source
    for label in absent:
        assert label not in source


@pytest.mark.parametrize(
    ("outcome", "present", "absent"),
    [
        ("celery", ["broker", "workers", "beat", "web"], ["router", "backend", "timer"]),
        ("crossbar", ["router", "backend", "web", "browsers", "devices", "others", "timer"], ["broker", "workers"]),
        ("hybrid", ["router", "backend", "broker", "workers", "beat", "web", "browsers"], ["timer"]),
        ("neither", ["web", "browsers", "devices", "timer"], ["broker", "router", "workers", "beat", "backend"]),
    ],
)
def test_each_outcome_draws_its_own_shape(outcome: str, present: list[str], absent: list[str]) -> None:
    declared = set(re.findall(r"^  (\w+)[\[(]", mermaid_block(EVERYTHING, outcome), re.MULTILINE))
    assert set(present) <= declared
    assert not set(absent) & declared


def test_neither_is_one_process_with_its_tasks_inside() -> None:
    source = mermaid_block({}, "neither")
    assert source == 'flowchart LR\n  web["Your web application (background tasks in-process)"]'


def test_every_edge_joins_declared_nodes() -> None:
    for outcome in ("celery", "crossbar", "hybrid", "neither"):
        system = diagram.build(result_for(EVERYTHING).answers, outcome)
        ids = {node.id for node in system.nodes}
        assert {end for edge in system.edges for end in (edge.source, edge.target)} <= ids


def test_html_and_text_reports_draw_the_same_system() -> None:
    result = result_for({"existing_broker": "sqs", "durable_work": "true", "retries": "true"})
    assert result.verdict.recommendation == "celery"
    html = render(result, "html", "2026-01-01")
    svg = html[html.index('class="arch"') : html.index("</svg>", html.index('class="arch"'))]
    assert ">Broker: Amazon SQS<" in svg and ">Your web application<" in svg
    assert "Browsers" not in svg and "beat" not in svg
    architecture = render(result, "text").split("Architecture:")[1].split("Answers:")[0]
    assert "Your web application --task.delay()--> Broker: Amazon SQS" in architecture
    assert "Browsers" not in architecture and "beat" not in architecture


def test_the_cli_report_names_the_broker_the_user_runs(run: Callable[..., Result]) -> None:
    sets = ("existing_broker=rabbitmq", "durable_work=true", "retries=true", "scheduling=critical")
    args = [arg for value in sets for arg in ("--set", value)]
    markdown = run("recommend", *args, "--format", "markdown", "--date", "2026-01-01").out
    assert '[("Broker: RabbitMQ")]' in markdown and 'beat["celery beat (exactly one)"]' in markdown
    assert "Redis" not in markdown.split("```mermaid")[1].split("```")[0]


def test_mermaid_labels_cannot_break_the_diagram_or_the_code_fence() -> None:
    hostile = 'a "quoted" <b>#1</b> & ```fence``` \n end'
    system = diagram.Diagram("celery", [diagram.Node("x", hostile), diagram.Node("y", "y")])
    system.edges.append(diagram.Edge("x", "y", hostile))
    source = diagram.mermaid(system)
    body = source.split("\n", 1)[1]
    for line in body.splitlines():
        assert line.count('"') == 2  # only the quotes that delimit the label
    assert not re.search(r"[<>`&]", body.replace("-->", "").replace("<--", ""))
    assert "#34;quoted#34;" in source and "\n end" not in source
