"""Fixtures for the Crossbar side: a real router, the backend component and headless Chromium.

The router starts through `python -m <package>.router`, the backend through `python -m
<package>.backend`: the commands scripts/run and docker compose run. mirakuru starts them
and waits until they are ready (the router answers HTTP; the backend logged that it has
registered), and stops each by its pid (and its process group) afterwards. Everything runs on
127.0.0.1 on free ports with secrets made up for this run. What is missing (crossbar,
Chromium, autobahn.min.js, playwright) fails the tests at once with a message saying how to
install it: these tests never skip.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

import pytest
from mirakuru import Executor, HTTPExecutor
from mirakuru.exceptions import ExecutorError

from {{ cookiecutter.package_name }} import router as launcher

PROJECT_DIR = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
HYBRID = {{ "True" if cookiecutter.stack == "hybrid" else "False" }}
# Where and how a developer's own router listens (.env, environment): never for the tests' routers.
ROUTER_SETTINGS = (
    "ROUTER_HOST",
    "ROUTER_PORT",
    "ROUTER_INTERNAL_PORT",
    "ROUTER_ORIGINS",
    "ROUTER_PROXIES",
    "PUBLISHER_ALLOW_FROM",
)
READY_LINE = "backend ready"  # what the backend prints once its procedures are registered
BOOTED = "local node configuration ran successfully"  # what Crossbar logs once every worker runs
START_TIMEOUT = 60.0  # seconds for the router to answer (Crossbar imports a lot on start)
BACKEND_TIMEOUT = 30.0  # seconds for a backend to join and register
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a started process, the router settings it does not set blanked out.

    mirakuru starts processes with os.environ updated by the variables it is given, so a
    setting left out here would come from the developer's shell instead; empty means unset.
    """
    return {**dict.fromkeys(ROUTER_SETTINGS, ""), **env}


class LoggedExecutor(Executor):
    """A process whose output goes to `log`; started once a line with `banner` is logged.

    (mirakuru's OutputExecutor reads a pipe, which a long-running process would fill.)
    """

    def __init__(self, command: list[str], log: Path, banner: str, **kwargs: Any) -> None:
        self.log = log
        self.banner = banner.encode()
        self._offset = 0
        log.parent.mkdir(parents=True, exist_ok=True)
        self._sink = open(log, "ab")  # noqa: SIM115 (open for the executor's lifetime; closed in close())
        super().__init__(command, stdin=subprocess.DEVNULL, stdout=self._sink, stderr=subprocess.STDOUT, **kwargs)

    def start(self) -> Self:
        self._offset = self.log.stat().st_size  # only lines logged by this start count
        return super().start()

    def pre_start_check(self) -> bool:
        return False  # nothing else runs with this configuration

    def after_start_check(self) -> bool:
        with open(self.log, "rb") as handle:
            handle.seek(self._offset)
            return self.banner in handle.read()

    def close(self) -> None:
        self._sink.close()


@dataclass
class RouterStack:
    """A running router: where it listens and the environment the other processes need."""

    proc: HTTPExecutor
    port: int
    env: dict[str, str]
    log_dir: Path
    cbdir: Path
    host: str = "127.0.0.1"
    backend: LoggedExecutor | None = field(default=None)

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"


def router_vars() -> dict[str, str]:
    """The router's free ports and fresh secrets for one router.

    ROUTER_HOST stays empty: the router listens where .crossbar/config.json says (127.0.0.1),
    and the clients connect there by default.
    """
    values = {
        "ROUTER_PORT": str(free_port()),
        "ROUTER_INTERNAL_PORT": str(free_port()),
        "BACKEND_SECRET": secrets.token_urlsafe(32),
        "TICKET_SECRET": secrets.token_urlsafe(32),
    }
    if HYBRID:
        values.update(PUBLISHER_KEY=secrets.token_urlsafe(12), PUBLISHER_SECRET=secrets.token_urlsafe(32))
    return values


def make_stack_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for a router and backend: `base` (default os.environ) plus router_vars()."""
    env = {name: value for name, value in (os.environ if base is None else base).items() if name not in ROUTER_SETTINGS}
    return {**env, **router_vars()}


def autobahn_js(env: dict[str, str]) -> Path:
    """The autobahn.min.js the page will load, or fail with how to get it."""
    shipped = PROJECT_DIR / "web" / launcher.AUTOBAHN_JS_REL
    candidates = [shipped] + ([Path(env["AUTOBAHN_JS"])] if env.get("AUTOBAHN_JS") else [])
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(launcher.AUTOBAHN_HINT, pytrace=False)


def tail(log: Path, lines: int = 25) -> str:
    """The last lines of a log, for failure messages."""
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def crossbar_bin() -> str:
    """The crossbar executable (CROSSBAR_BIN, .venv-crossbar, PATH); fails fast when missing."""
    try:
        return launcher.find_crossbar(PROJECT_DIR, os.environ)
    except launcher.StartError as exc:
        pytest.fail(str(exc), pytrace=False)
{%- if cookiecutter.stack == "hybrid" %}


@pytest.fixture(scope="session", autouse=True)
def router_env(base_env: dict[str, str]) -> dict[str, str]:
    """The test router's address and this session's secrets.

    Also written into conftest's `base_env`, before any process starts, so that every process
    the tests start from it (the Celery worker too, whose jobs publish through the router's
    HTTP bridge) reaches the test router with the right key.
    """
    values = router_vars()
    base_env.update(values)
    return values


@pytest.fixture(scope="session")
def stack_env(celery_env: dict[str, str], router_env: dict[str, str]) -> dict[str, str]:
    """Environment of the router and the backend: the worker's (test broker) plus router_env."""
    return {**celery_env, **router_env}
{%- else %}


@pytest.fixture(scope="session")
def router_env() -> dict[str, str]:
    """The test router's address and this session's secrets."""
    return router_vars()


@pytest.fixture(scope="session")
def stack_env(base_env: dict[str, str], router_env: dict[str, str]) -> dict[str, str]:
    """Environment of the router and the backend for this test session."""
    return {**base_env, **router_env}
{%- endif %}


def router_executor(env: dict[str, str], sink: IO[bytes], run_dir: Path) -> HTTPExecutor:
    """`python -m <package>.router` for `env`, ready once its public port answers HTTP."""
    return HTTPExecutor(
        [sys.executable, "-m", f"{PACKAGE}.router", "--run-dir", str(run_dir)],
        url=f"http://127.0.0.1:{env['ROUTER_PORT']}/",
        method="GET",
        status=200,
        envvars=process_env(env),
        cwd=str(PROJECT_DIR),
        timeout=START_TIMEOUT,
        # Crossbar exits with status 0 after SIGINT, but with 1 after a clean SIGTERM shutdown.
        stop_signal=signal.SIGINT,
        stdin=subprocess.DEVNULL,
        stdout=sink,
        stderr=subprocess.STDOUT,
    )


@contextlib.contextmanager
def running_router(env: dict[str, str], log_dir: Path, run_dir: Path, name: str = "router") -> Iterator[RouterStack]:
    """A router started for `env`, stopped by pid on leaving (fails the test when it cannot start)."""
    autobahn_js(env)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("wb") as sink:
        proc = router_executor(env, sink, run_dir)
        try:
            proc.start()
            # HTTP answers as soon as the first worker listens; Crossbar says when all have started
            # (with proxy workers, the others may still be starting).
            proc.wait_for(lambda: BOOTED in log.read_text(encoding="utf-8", errors="replace"))
        except ExecutorError as exc:
            reason = f"could not start the Crossbar router ({exc}); last lines of {log}:\n{tail(log)}"
            pytest.fail(reason, pytrace=False)
        port = int(env["ROUTER_PORT"])
        try:
            yield RouterStack(proc=proc, port=port, env=env, log_dir=log_dir, cbdir=run_dir / f"router-{port}")
        finally:
            proc.stop()


def backend_executor(env: dict[str, str], log: Path) -> LoggedExecutor:
    """`python -m <package>.backend` for `env`, started once it logs READY_LINE."""
    return LoggedExecutor(
        [sys.executable, "-m", f"{PACKAGE}.backend"],
        log=log,
        banner=READY_LINE,
        envvars=process_env({**env, "PYTHONUNBUFFERED": "1"}),
        cwd=str(PROJECT_DIR),
        timeout=BACKEND_TIMEOUT,
    )


def start(proc: LoggedExecutor) -> LoggedExecutor:
    """Start (or start again) `proc`; fail the test with its log when it does not get ready."""
    try:
        proc.start()
    except ExecutorError as exc:
        reason = f"could not start {proc.command} ({exc}); last lines of {proc.log}:\n{tail(proc.log)}"
        pytest.fail(reason, pytrace=False)
    return proc


@pytest.fixture(scope="session")
def router(
    crossbar_bin: str, stack_env: dict[str, str], log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RouterStack]:
    """A real Crossbar router on a free loopback port, stopped by pid at the end."""
    env = dict(stack_env, CROSSBAR_BIN=crossbar_bin)
    with running_router(env, log_dir, tmp_path_factory.mktemp("crossbar-run")) as stack:
        yield stack


@pytest.fixture(scope="session")
def backend(router: RouterStack) -> Iterator[RouterStack]:
    """The backend component (python -m <package>.backend) joined to `router` and registered."""
    proc = start(backend_executor(router.env, router.log_dir / "backend.log"))
    router.backend = proc
    try:
        yield router
    finally:
        router.backend = None
        try:
            proc.stop()
        finally:
            proc.close()


BackendFactory = Callable[[RouterStack], LoggedExecutor]


@pytest.fixture
def start_backend() -> Iterator[BackendFactory]:
    """Start extra backends: `start_backend(stack)` returns a started one; all are stopped afterwards.

    Each has a log of its own (backend-extra-<n>.log beside the router's). A test may kill
    one (`proc.kill()`, SIGKILL) and start it again (`start(proc)`).
    """
    with contextlib.ExitStack() as cleanup:  # at the end, runs every callback even after one failed
        count = 0

        def factory(stack: RouterStack) -> LoggedExecutor:
            nonlocal count
            count += 1
            proc = backend_executor(stack.env, stack.log_dir / f"backend-extra-{count}-{secrets.token_hex(3)}.log")
            cleanup.callback(proc.close)
            cleanup.callback(proc.stop)  # by its pid and process group; nothing when a test killed it last
            return start(proc)

        yield factory


# --- headless Chromium ---------------------------------------------------------------------

PLAYWRIGHT_HINT = (
    "playwright is not installed: run `bash scripts/test` (it installs requirements/test.txt) "
    "(no `playwright install` needed: the tests drive the Chromium at CHROMIUM_BIN)"
)


def expect(target: Any) -> Any:
    """playwright's expect(); its polling runs outside the page, so the page's CSP does not apply."""
    try:
        from playwright.sync_api import expect as playwright_expect
    except ImportError:
        pytest.fail(PLAYWRIGHT_HINT, pytrace=False)
    return playwright_expect(target)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Chromium driven by playwright (system Chromium; no `playwright install`)."""
    executable = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        found = shutil.which(executable)
        if not found:
            pytest.fail(
                f"Chromium not found at {executable!r}: install it (e.g. `apt-get install chromium`) "
                "or set CHROMIUM_BIN",
                pytrace=False,
            )
        executable = found
    try:
        from playwright.sync_api import expect as playwright_expect
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(PLAYWRIGHT_HINT, pytrace=False)
    playwright_expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class LivePage:
    """A browser tab on the router's page and the errors it reported (console, exceptions, CSP)."""

    tab: Any
    errors: list[str]


def open_page(chromium: Any, stack: RouterStack, ticket: str | None = None) -> Iterator[LivePage]:
    """A fresh tab showing the router's page, connected to the router.

    Anonymous (role `browser`), or signed in with `ticket` in the URL fragment, the way
    `python -m <package>.tickets` and a web app's login hand it over.
    """
    context = chromium.new_context()
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    tab.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    try:
        tab.goto(stack.http_url + (f"#ticket={ticket}" if ticket else ""))
        expect(tab.locator("#status")).to_have_text("connected")
        yield LivePage(tab, errors)
    finally:
        context.close()


@pytest.fixture
def page(chromium: Any, backend: RouterStack) -> Iterator[LivePage]:
    """A fresh tab on the router's page (router and backend running)."""
    yield from open_page(chromium, backend)
{%- if cookiecutter.stack == "hybrid" %}


@pytest.fixture(scope="session")
def hybrid_stack(backend: RouterStack, worker: Any) -> RouterStack:
    """redis-server, a Celery worker (with <package>.jobs), the router and the backend, all running."""
    return backend


@pytest.fixture
def hybrid_page(chromium: Any, hybrid_stack: RouterStack) -> Iterator[LivePage]:
    """A fresh tab on the router's page with the whole hybrid stack running."""
    yield from open_page(chromium, hybrid_stack)
{%- endif %}
