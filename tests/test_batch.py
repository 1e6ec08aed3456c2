"""Portfolio mode: one verdict per service; bad rows located and skipped, the rest still decided."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from conftest import Result

Run = Callable[..., Result]
Write = Callable[[str, "str | bytes"], Path]

CSV = """name,latency,browser_clients,durable_work,scheduling,team_size
billing,relaxed,none,true,critical,6
dashboard,realtime,rpc,,none,3
imports,interactive,rpc,true,light,5
broken,fast,push,maybe,none,0
"""


def test_csv_rows_each_get_a_verdict_and_bad_rows_are_located(run: Run, write: Write) -> None:
    path = write("portfolio.csv", CSV)
    result = run("recommend", "--batch", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert result.code == 2
    assert [(row["name"], row["recommendation"]) for row in rows] == [
        ("billing", "celery"),
        ("dashboard", "crossbar"),
        ("imports", "hybrid"),
    ]
    assert result.err.splitlines() == [
        f"{path}:5:2: error[bad-answer]: 'latency': 'fast' is not a choice (allowed: realtime, interactive, relaxed)",
        f"{path}:5:4: error[bad-answer]: 'durable_work': expected yes or no, not text 'maybe' "
        "(allowed: yes, no, true, false)",
        f"{path}:5:6: error[bad-answer]: 'team_size': 0 is out of range (allowed: an integer from 1 to 10000)",
    ]


def test_yaml_batch_as_json_lines_with_a_summary(run: Run, write: Write) -> None:
    path = write(
        "portfolio.yml",
        "version: 1\nservices:\n  - name: billing\n    answers: {durable_work: true}\n"
        "  - name: board\n    answers: {browser_clients: rpc, latency: realtime}\n",
    )
    result = run("recommend", "--batch", str(path), "--format", "json")
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert result.code == 0
    assert [line["name"] for line in lines[:2]] == ["billing", "board"]
    assert lines[2]["summary"]["services"] == 2
    assert sum(lines[2]["summary"]["verdicts"].values()) == 2


def test_the_text_table_ends_with_the_summary(run: Run, write: Write) -> None:
    result = run("recommend", "--batch", str(write("p.csv", CSV.rsplit("broken", 1)[0])))
    assert result.code == 0
    assert "3 services: celery 1, crossbar 1, hybrid 1" in result.out
    assert "Most common reasons:" in result.out


def test_bad_headers_and_mixed_options_are_refused(run: Run, write: Write) -> None:
    bad = run("recommend", "--batch", str(write("h.csv", "name,latncy\nx,realtime\n")))
    assert bad.code == 2
    assert "h.csv:1:2: error[unknown-question]: unknown column 'latncy' (did you mean 'latency'?)" in bad.err
    both = run("recommend", "--batch", str(write("p.csv", CSV)), "--answers", str(write("a.yml", "version: 1\n")))
    assert both.code == 2
    assert run("recommend", "--defaults", "--format", "csv").code == 2
