"""advisor bench for real: a quick run of both engines, Ctrl-C, and its HTML in Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import test_reports
from test_bench import ANSWERS, FIXTURE, SCHEMA, fixture_result

from advisor import advice
from advisor.render import bench as bench_render
from advisor.render import evidence, render

ROOT = Path(__file__).resolve().parent.parent
ENGINE_NAMES = ("redis-server", "crossbar", "celery")


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_bench_and_evidence_html_fit_a_phone_and_stay_legible_in_chromium(tmp_path: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright

    result = advice.advise_given(advice.load_ruleset(), Path(ANSWERS), [])
    pages = {
        "bench.html": bench_render.render(fixture_result(), "html"),
        "evidence.html": render(result, "html", "2026-01-01", bench=evidence.load(FIXTURE)),
    }
    problems: dict[str, object] = {}
    requests: list[str] = []
    with sync_playwright() as playwright:
        chromium = test_reports._chromium()
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("request", lambda request: requests.append(request.url))
        for name, html in pages.items():
            (tmp_path / name).write_text(html, encoding="utf-8")
            page.goto((tmp_path / name).as_uri())
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems[f"{name} scroll width"] = page.evaluate("document.documentElement.scrollWidth")
            small = page.evaluate(test_reports._SMALL_TEXT_JS)
            if small:
                problems[f"{name} text under 11 px"] = small[:8]
        browser.close()
    assert problems == {}
    assert requests == [(tmp_path / name).as_uri() for name in pages]  # self-contained: nothing fetched


def _bench(*args: str) -> subprocess.Popen[str]:
    # The checkout's own Crossbar.io virtualenv, unless ADVISOR_CROSSBAR names another.
    crossbar = os.environ.get("ADVISOR_CROSSBAR", str(ROOT / ".venv-crossbar" / "bin" / "crossbar"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_CROSSBAR": crossbar}
    command = [sys.executable, "-m", "advisor", "bench", "--quick", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.mark.slow
def test_a_quick_run_measures_both_engines_in_under_a_minute() -> None:
    process = _bench("--format", "json")
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert err == ""  # no progress on a pipe
    data = json.loads(out)
    SCHEMA.validate(data)
    assert [item["id"] for item in data["experiments"]] == [
        "round-trip",
        "throughput",
        "fan-out",
        "absent-consumer",
        "crashed-consumer",
        "schedule",
    ]
    for item in data["experiments"]:
        for engine in ("celery", "wamp"):
            assert item[engine]["status"] in ("ok", "not-available"), (item["id"], engine, item[engine])
    print(f"advisor bench --quick: {data['seconds']} s")
    assert data["seconds"] < 60


def _started_engines(parent: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in parent.children(recursive=True):
        try:
            if any(name in " ".join(child.cmdline()) for name in ENGINE_NAMES):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGINT, 130, "bench cancelled; every engine process stopped"),  # Ctrl-C
        (signal.SIGTERM, 143, "SIGTERM; every engine process stopped"),  # a CI timeout, kill, systemd
        (signal.SIGHUP, 129, "SIGHUP; every engine process stopped"),  # the terminal closed
    ],
)
def test_a_stop_signal_stops_every_engine_process_and_exits_with_its_code(
    sig: signal.Signals, code: int, said: str
) -> None:
    process = _bench("--only", "round-trip", "--only", "throughput")
    parent = psutil.Process(process.pid)
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + 60
    # Wait until both engines and a Celery worker run (mid-experiment), recording every process seen.
    while time.monotonic() < deadline and process.poll() is None:
        seen.update({child.pid: child for child in _started_engines(parent)})
        names = " ".join(" ".join(child.cmdline()) for child in seen.values() if child.is_running())
        if all(name in names for name in ENGINE_NAMES):
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before both engines and a worker were seen"
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err[-3000:]
    assert said in err
    _, alive = psutil.wait_procs(list(seen.values()), timeout=10)
    assert seen and alive == [], [p.pid for p in alive]


@pytest.mark.slow
def test_a_progress_bar_shows_on_a_terminal() -> None:
    import pexpect

    crossbar = os.environ.get("ADVISOR_CROSSBAR", str(ROOT / ".venv-crossbar" / "bin" / "crossbar"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_CROSSBAR": crossbar}
    args = ["-m", "advisor", "bench", "--quick", "--only", "absent-consumer"]
    child = pexpect.spawn(sys.executable, args, env=env, cwd=str(ROOT), encoding="utf-8", timeout=90)
    child.expect_exact("advisor bench")
    child.expect_exact("0/2")
    child.expect_exact("absent-consumer: celery ...")
    child.expect_exact("1/2")
    child.expect_exact("absent-consumer: wamp ...")
    child.expect_exact("2/2")
    child.expect_exact("No consumer running (absent-consumer")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
