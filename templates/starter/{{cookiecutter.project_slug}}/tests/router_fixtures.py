"""Fixtures for the Crossbar side: a real router, the backend component and headless Chromium.

Everything runs on 127.0.0.1 on free ports with secrets made up for this run; every process
is stopped by its pid. What is missing (crossbar, Chromium, autobahn.min.js, playwright)
fails the tests at once with a message saying how to install it: these tests never skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import router as launcher
from {{ cookiecutter.package_name }}.devstack import Proc, StartError, free_port, stop

PROJECT_DIR = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
HYBRID = {{ "True" if cookiecutter.stack == "hybrid" else "False" }}
# Where and how a developer's own router listens (.env, environment): never for the tests' routers.
ROUTER_SETTINGS = ("ROUTER_HOST", "ROUTER_PORT", "ROUTER_INTERNAL_PORT", "ROUTER_ORIGINS", "PUBLISHER_ALLOW_FROM")
START_TIMEOUT = 60.0  # seconds for the router to answer (Crossbar imports a lot on start)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class RouterStack:
    """A running router: where it listens and the environment the other processes need."""

    proc: Proc
    port: int
    env: dict[str, str]
    log_dir: Path
    cbdir: Path
    host: str = "127.0.0.1"
    backend: Proc | None = field(default=None)

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"


def router_vars() -> dict[str, str]:
    """ROUTER_PORT (a free port) and fresh secrets for one router.

    No ROUTER_HOST: the router listens where .crossbar/config.json says (127.0.0.1), and the
    clients connect there by default.
    """
    values = {
        "ROUTER_PORT": str(free_port()),
        "BACKEND_SECRET": secrets.token_urlsafe(32),
        "TICKET_SECRET": secrets.token_urlsafe(32),
    }
    if HYBRID:
        values.update(
            ROUTER_INTERNAL_PORT=str(free_port()),
            PUBLISHER_KEY=secrets.token_urlsafe(12),
            PUBLISHER_SECRET=secrets.token_urlsafe(32),
        )
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


@pytest.fixture(scope="session")
def crossbar_bin() -> str:
    """The crossbar executable (CROSSBAR_BIN, .venv-crossbar, PATH); fails fast when missing."""
    try:
        return launcher.find_crossbar(PROJECT_DIR, os.environ)
    except StartError as exc:
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


def start_router_stack(env: dict[str, str], log_dir: Path, run_dir: Path) -> RouterStack:
    """Start a router for `env` (fails the test with the reason when it cannot)."""
    autobahn_js(env)
    port = int(env["ROUTER_PORT"])
    try:
        proc = launcher.start_router(PROJECT_DIR, port, env, log_dir, run_dir=run_dir, timeout=START_TIMEOUT)
    except StartError as exc:
        pytest.fail(f"could not start the Crossbar router: {exc}", pytrace=False)
    return RouterStack(proc=proc, port=port, env=env, log_dir=log_dir, cbdir=run_dir / f"router-{port}")


@pytest.fixture(scope="session")
def router(
    crossbar_bin: str, stack_env: dict[str, str], log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RouterStack]:
    """A real Crossbar router on a free loopback port, stopped by pid at the end."""
    env = dict(stack_env, CROSSBAR_BIN=crossbar_bin)
    stack = start_router_stack(env, log_dir, tmp_path_factory.mktemp("crossbar-run"))
    try:
        yield stack
    finally:
        stop(stack.proc)


@pytest.fixture(scope="session")
def backend(router: RouterStack) -> Iterator[RouterStack]:
    """The backend component (python -m <package>.backend) joined to `router` and registered."""
    try:
        proc = launcher.start_backend(PROJECT_DIR, router.env, router.log_dir, timeout=30)
    except StartError as exc:
        pytest.fail(f"could not start the backend component: {exc}", pytrace=False)
    router.backend = proc
    try:
        yield router
    finally:
        stop(proc)
        router.backend = None


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
