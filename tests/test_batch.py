"""Portfolio mode: one verdict per service; bad rows located, and nothing written unless --skip-bad."""

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


BAD_ROW = [
    "5:2: error[bad-answer]: 'latency': 'fast' is not a choice (allowed: realtime, interactive, relaxed)",
    "5:4: error[bad-answer]: 'durable_work': expected yes or no, not text 'maybe' (allowed: yes, no, true, false)",
    "5:6: error[bad-answer]: 'team_size': 0 is out of range (allowed: an integer from 1 to 10000)",
]


def test_a_bad_row_stops_the_batch_before_anything_is_written(run: Run, write: Write, tmp_path: Path) -> None:
    path = write("portfolio.csv", CSV)
    fresh = run("recommend", "--batch", str(path), "--format", "csv", "--output", str(tmp_path / "out.csv"))
    assert (fresh.code, fresh.out) == (2, "")
    assert not (tmp_path / "out.csv").exists()
    assert fresh.err.splitlines() == [
        *(f"{path}:{line}" for line in BAD_ROW),
        "nothing written; fix the rows above, or pass --skip-bad to write the others' verdicts",
    ]
    # Last week's table is neither truncated nor replaced by a partial one.
    old = write("old.csv", "name,recommendation\nbilling,celery\n")
    again = run("recommend", "--batch", str(path), "--format", "csv", "--output", str(old), "--force")
    assert again.code == 2
    assert old.read_text(encoding="utf-8") == "name,recommendation\nbilling,celery\n"


def test_skip_bad_writes_the_good_rows_and_locates_the_bad(run: Run, write: Write) -> None:
    path = write("portfolio.csv", CSV)
    result = run("recommend", "--batch", str(path), "--format", "csv", "--skip-bad")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert result.code == 2
    assert [(row["name"], row["recommendation"]) for row in rows] == [
        ("billing", "celery"),
        ("dashboard", "crossbar"),
        ("imports", "hybrid"),
    ]
    assert result.err.splitlines() == [f"{path}:{line}" for line in BAD_ROW]


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


def test_the_summary_counts_one_service_in_the_singular(run: Run, write: Write) -> None:
    result = run("recommend", "--batch", str(write("one.csv", "name,durable_work\nbilling,yes\n")))
    assert result.code == 0
    assert "1 service: celery 1, crossbar 0, hybrid 0, neither 0" in result.out
    assert "1 services" not in result.out
    reasons = result.out.split("Most common reasons:\n", 1)[1].splitlines()
    assert reasons and all(line.endswith(" (1 service)") for line in reasons)


def test_bad_headers_and_mixed_options_are_refused(run: Run, write: Write) -> None:
    bad = run("recommend", "--batch", str(write("h.csv", "name,latncy\nx,realtime\n")))
    assert bad.code == 2
    assert "h.csv:1:2: error[unknown-question]: unknown column 'latncy' (did you mean 'latency'?)" in bad.err
    both = run("recommend", "--batch", str(write("p.csv", CSV)), "--answers", str(write("a.yml", "version: 1\n")))
    assert both.code == 2
    assert run("recommend", "--defaults", "--format", "csv").code == 2
    skip_alone = run("recommend", "--defaults", "--skip-bad")
    assert (skip_alone.code, skip_alone.out) == (2, "")
    assert "--skip-bad goes with --batch" in skip_alone.err
