"""advisor bench: the runner's deadlines and faults, the command's errors, every output format,
and `recommend --evidence` reading a bench document back."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import Result

from advisor.bench import runner
from advisor.bench.experiments import IDS
from advisor.bench.model import ERROR, OK, QUICK, TIMEOUT, BenchCancelled, Observation, Settings
from advisor.render import bench as bench_render

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "bench-quick.json"
SCHEMA = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "bench.schema.json").read_text(encoding="utf-8")))
SHORT = replace(QUICK, deadline=0.5)


class LoopbackEngine:
    """A real engine in miniature: an echo server on a loopback port, stopped through the stack."""

    def __init__(self, stack: contextlib.ExitStack, name: str) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.description = f"{name} echo on 127.0.0.1:{self.server.getsockname()[1]}"
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()
        stack.callback(self.stop)

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                with conn:
                    conn.sendall(conn.recv(16))

    def stop(self) -> None:
        self.stopped = True
        self.server.close()

    def alive(self) -> str | None:
        return "its socket is closed" if self.stopped else None


def round_trip(engine: LoopbackEngine, settings: Settings) -> Observation:
    """A real measurement: one echo over the engine's socket."""
    began = time.monotonic()
    with socket.create_connection(engine.server.getsockname(), timeout=settings.deadline) as conn:
        conn.sendall(b"ping")
        answer = conn.recv(16)
    ms = (time.monotonic() - began) * 1000
    return Observation("x", OK, f"echoed {answer.decode()!r} in {ms:.2f} ms", {"p50_ms": ms})


def sides(functions: dict[str, Callable[..., Observation]], engines: list[LoopbackEngine]) -> list[runner.Side]:
    """Both sides running the same functions for every experiment, on loopback engines kept in `engines`."""

    def starter(name: str) -> runner.EngineFactory:
        def start(stack: contextlib.ExitStack, work_dir: Path) -> Any:
            assert work_dir.is_dir()
            engines.append(LoopbackEngine(stack, name))
            return engines[-1]

        return start

    experiments = {name: functions.get(name, round_trip) for name in IDS}
    return [
        runner.Side("celery", "broker", starter("celery"), experiments),
        runner.Side("wamp", "router", starter("wamp"), experiments),
    ]


def test_a_run_measures_each_experiment_on_both_sides_and_stops_its_engines() -> None:
    engines: list[LoopbackEngine] = []
    result = runner.run(runner.Options(quick=True), sides({}, engines), SHORT)
    assert [item.id for item in result.experiments] == list(IDS)
    for item in result.experiments:
        assert item.celery.status == item.wamp.status == OK
        assert item.celery.outcome.startswith("echoed 'ping' in ")
    assert set(result.where) == {"broker", "router"} and "echo on 127.0.0.1:" in result.where["router"]
    assert [engine.stopped for engine in engines] == [True, True]


def test_a_hanging_experiment_is_ended_by_its_deadline_and_the_next_one_still_runs() -> None:
    release = threading.Event()

    def hangs(engine: LoopbackEngine, settings: Settings) -> Observation:
        release.wait()  # genuinely blocks: nothing sets it until the test ends
        return round_trip(engine, settings)

    try:
        began = time.monotonic()
        result = runner.run(runner.Options(only=("round-trip", "throughput")), sides({"round-trip": hangs}, []), SHORT)
        elapsed = time.monotonic() - began
    finally:
        release.set()
    first, second = result.experiments
    assert (first.celery.status, first.wamp.status) == (TIMEOUT, TIMEOUT)
    assert first.celery.detail == "ended by its deadline after 0.5 s"
    assert (second.celery.status, second.wamp.status) == (OK, OK)
    assert elapsed < 10 * SHORT.deadline


def test_an_experiment_that_raises_is_an_error_with_its_message() -> None:
    def raises(engine: LoopbackEngine, settings: Settings) -> Observation:
        raise ConnectionRefusedError("the broker refused")

    result = runner.run(runner.Options(only=("throughput", "schedule")), sides({"throughput": raises}, []), SHORT)
    assert result.experiments[0].celery.status == ERROR
    assert result.experiments[0].celery.detail == "ConnectionRefusedError: the broker refused"
    assert result.experiments[1].wamp.status == OK


def test_a_dead_engine_is_reported_without_waiting_for_the_experiment() -> None:
    release = threading.Event()
    engines: list[LoopbackEngine] = []

    def hangs_on_the_router(engine: LoopbackEngine, settings: Settings) -> Observation:
        if engine is engines[1]:
            release.wait()  # would hang for the whole deadline if it were called
        return round_trip(engine, settings)

    def kill_the_router(step: str) -> None:
        if step == "round-trip: wamp":
            engines[1].stop()

    long = replace(QUICK, deadline=30.0)
    began = time.monotonic()
    try:
        options = runner.Options(only=("round-trip",), progress=kill_the_router)
        result = runner.run(options, sides({"round-trip": hangs_on_the_router}, engines), long)
    finally:
        release.set()
    wamp = result.experiments[0].wamp
    assert (wamp.status, wamp.detail) == (ERROR, "engine stopped: its socket is closed")
    assert result.experiments[0].celery.status == OK
    assert time.monotonic() - began < long.deadline


def test_ctrl_c_stops_every_engine_and_says_so() -> None:
    engines: list[LoopbackEngine] = []

    def interrupt(step: str) -> None:
        if step == "throughput: celery":
            raise KeyboardInterrupt

    with pytest.raises(BenchCancelled, match="bench cancelled; every engine process stopped") as caught:
        runner.run(runner.Options(progress=interrupt), sides({}, engines), SHORT)
    assert caught.value.exit_code == 130
    assert [engine.stopped for engine in engines] == [True, True]


# --- the command ------------------------------------------------------------------------------


def test_an_unknown_experiment_or_format_is_refused_with_the_choices(run: Run) -> None:
    result = run("bench", "--only", "latency")
    assert result.code == 2
    assert "--only latency: no such experiment; choose from round-trip, throughput" in result.err
    result = run("bench", "--format", "adr")
    assert result.code == 2 and "'text', 'json', 'markdown', 'html'" in result.err


def test_missing_engine_libraries_are_a_message_and_exit_1(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def without_celery(name: str, package: str | None = None) -> Any:
        if name == "advisor.bench.celery_side":
            raise ModuleNotFoundError("No module named 'celery'", name="celery")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_celery)
    result = run("bench", "--quick")
    assert (result.code, result.out) == (1, "")
    assert result.err == "advisor bench needs celery, which is not installed: pip install 'advisor[engines]'\n"


def test_a_missing_redis_server_is_a_message_and_exit_1(run: Run) -> None:
    result = run("bench", "--quick", "--only", "round-trip", "--redis-server", "/nonexistent/redis-server")
    assert result.code == 1
    assert "/nonexistent/redis-server" in result.err and "Traceback" not in result.err


def test_a_missing_crossbar_is_a_message_and_the_started_redis_server_is_stopped(run: Run) -> None:
    import psutil

    result = run("bench", "--quick", "--crossbar", "/nonexistent/crossbar")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("crossbar not found (/nonexistent/crossbar): install Crossbar.io")
    assert "ADVISOR_CROSSBAR" in result.err
    # The Celery side had started its redis-server first: the run's stack stopped it.
    left = [child.name() for child in psutil.Process().children(recursive=True)]
    assert "redis-server" not in left


def test_an_existing_output_file_is_refused_before_anything_runs(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "bench.json"
    target.write_text("keep", encoding="utf-8")
    result = run("bench", "--output", str(target))
    assert result.code == 3 and "pass --force" in result.err
    assert target.read_text(encoding="utf-8") == "keep"


# --- output -----------------------------------------------------------------------------------


def fixture_result() -> Any:
    return bench_render.from_json_data(json.loads(FIXTURE.read_text(encoding="utf-8")), str(FIXTURE))


def test_the_committed_bench_document_validates_and_reads_back_unchanged() -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    SCHEMA.validate(data)
    assert bench_render.to_json_data(fixture_result()) == data


def test_a_run_writes_json_that_validates_against_the_schema() -> None:
    result = runner.run(runner.Options(quick=True, only=("round-trip",)), sides({}, []), SHORT)
    data = json.loads(bench_render.render(result, "json"))
    SCHEMA.validate(data)
    assert data["experiments"][0]["celery"]["outcome"].startswith("echoed")


def test_text_and_markdown_put_both_engines_side_by_side_with_the_rules() -> None:
    result = fixture_result()
    text, markdown = bench_render.render(result, "text"), bench_render.render(result, "markdown")
    assert all(len(line) <= 80 for line in text.splitlines())
    for item in result.experiments:
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {item.title} "))
        assert item.celery.outcome[:30] in row and f"`{item.rules[0]}`" in row
        assert item.celery.outcome.split()[0] in text and item.rules[-1] in text
    # The ratio within the run, computed from both engines' figures.
    celery, wamp = result.experiments[0].celery.metrics, result.experiments[0].wamp.metrics
    expected = f"p50 Celery/WAMP {celery['p50_ms'] / wamp['p50_ms']:.1f}x"
    assert f"  Ratio           {expected}" in text and f"| {expected}, p99 " in markdown


def test_html_is_self_contained_with_both_charts() -> None:
    html = bench_render.render(fixture_result(), "html")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "src=" not in html
    assert html.count("<svg") == 2  # latency distribution and fan-out against N
    assert html.count("<polyline") == 4  # each chart, both engines


def test_html_escapes_what_an_engine_said() -> None:
    result = fixture_result()
    first = result.experiments[0]
    hostile = replace(first, celery=replace(first.celery, outcome="<script>alert(1)</script>"))
    html = bench_render.render(replace(result, experiments=(hostile,)), "html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- recommend --evidence ---------------------------------------------------------------------

ANSWERS = str(ROOT / "generated_examples" / "answers" / "import-tracker.yml")
RECOMMENDATION = jsonschema.Draft202012Validator(
    json.loads((ROOT / "docs" / "recommendation.schema.json").read_text(encoding="utf-8"))
)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "adr"])
def test_every_report_format_shows_the_measurements_beside_the_rules(run: Run, fmt: str) -> None:
    result = run("recommend", "--answers", ANSWERS, "--evidence", str(FIXTURE), "--format", fmt)
    assert result.code == 0, result.err
    out = " ".join(result.out.split())  # the terminal's wrapping aside
    crashed = next(item for item in fixture_result().experiments if item.id == "crashed-consumer")
    assert "Measured on your machine" in out
    assert fixture_result().machine["date"] in out  # when it was measured
    assert crashed.celery.outcome in out and crashed.wamp.outcome.split(":")[0] in out
    assert "acks-late-needs-idempotent-tasks" in out.split("Measured on your machine", 1)[1]
    if fmt != "adr":  # the record has no details section to annotate
        assert "measured: see Measured on your machine (absent-consumer, crashed-consumer)" in out
    assert "advisor bench --quick" not in out  # measured already: the next steps no longer suggest it


def test_without_evidence_no_report_mentions_a_measurement(run: Run) -> None:
    for fmt in ("text", "markdown", "html", "adr", "json"):
        out = run("recommend", "--answers", ANSWERS, "--format", fmt).out
        assert "Measured on your machine" not in out and '"evidence"' not in out


def test_json_evidence_is_an_optional_member_the_schema_allows(run: Run) -> None:
    data = json.loads(run("recommend", "--answers", ANSWERS, "--evidence", str(FIXTURE), "--format", "json").out)
    RECOMMENDATION.validate(data)
    ids = [item["id"] for item in data["evidence"]["experiments"]]
    assert "crashed-consumer" in ids and "round-trip" not in ids  # round trip supports no rule of this verdict
    fired = {rule["rule"] for rule in (*data["fired"], *data["requirements"], *data["caveats"])}
    assert all(set(item["rules"]) <= fired for item in data["evidence"]["experiments"])


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(schema="advisor.bench/0"), "schema: expected 'advisor.bench/1'"),
        (lambda d: d["experiments"][2]["wamp"].pop("outcome"), "experiments[2].wamp.outcome: missing"),
        (lambda d: d["experiments"][0]["celery"].update(status="fine"), "experiments[0].celery.status: 'fine'"),
        (lambda d: d.update(seconds="fast"), "seconds: expected a number, found str"),
    ],
)
def test_a_bad_evidence_file_is_refused_naming_the_file_and_field(
    run: Run, tmp_path: Path, change: Callable[[dict[str, Any]], Any], named: str
) -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    change(data)
    bad = tmp_path / "bench.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    result = run("recommend", "--answers", ANSWERS, "--evidence", str(bad))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"--evidence {bad}: {named}" + result.err.split(named, 1)[1]


def test_evidence_that_is_not_json_is_refused(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bench.json"
    bad.write_text("advisor bench output, as text", encoding="utf-8")
    result = run("recommend", "--answers", ANSWERS, "--evidence", str(bad))
    assert result.code == 2 and f"--evidence {bad}: not a JSON document from advisor bench" in result.err


@pytest.mark.parametrize("args", [["--help"], ["recommend", "--defaults", "--format", "json"], ["bench", "--help"]])
def test_nothing_of_the_bench_is_loaded_unless_it_runs(args: list[str]) -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from advisor.cli import main\n"
        f"code = main({args!r})\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('advisor.bench', 'mirakuru', 'psutil')))\n"
        "sys.stderr.write(repr((code, loaded)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.stderr.strip().splitlines()[-1] == "(0, [])"


def test_ctrl_c_is_still_a_cancel_when_stopping_an_engine_then_fails() -> None:
    engines: list[LoopbackEngine] = []

    def start_and_fail_to_stop(stack: contextlib.ExitStack, work_dir: Path) -> Any:
        def stop_badly() -> None:
            raise RuntimeError("the router exited 1 while it was starting")

        stack.callback(stop_badly)
        raise KeyboardInterrupt  # Ctrl-C while this engine starts

    both = sides({}, engines)
    both[1] = replace(both[1], start=start_and_fail_to_stop)
    with pytest.raises(BenchCancelled):
        runner.run(runner.Options(), both, SHORT)
    assert [engine.stopped for engine in engines] == [True]
