"""The page in headless Chromium, served by the real router, talking to the real backend."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from live_board import tickets

from router_fixtures import PACKAGE, PROJECT_DIR, LivePage, RouterStack, expect, open_page
from wamp_client import new_user, run_async, wamp_session

# The button only signed-in users may use.
USER_BUTTON = "#whoami"


def expect_event(page: LivePage, text: str) -> None:
    """Wait until the live event list shows `text`."""
    expect(page.tab.locator("#events li", has_text=text).first).to_have_text(text)


def test_page_calls_hello_and_shows_result(page: LivePage) -> None:
    """Clicking #hello calls the RPC through the router and shows the greeting in #hello-result."""
    page.tab.click("#hello")
    expect(page.tab.locator("#hello-result")).to_have_text(re.compile(r"^Hello, browser! \(call #\d+\)$"))
    greeting = page.tab.text_content("#hello-result")
    expect_event(page, greeting)
    assert page.errors == []


def test_page_shows_live_event_from_another_client(page: LivePage, backend: RouterStack) -> None:
    """An event caused by another client (a Python session calling hello) appears live on the page."""

    async def call_hello() -> str:
        async with wamp_session(backend.ws_url) as session:
            greeting: str = await session.call(f"{PACKAGE}.public.hello", "from python")
            return greeting

    greeting = run_async(call_hello())
    expect_event(page, greeting)
    assert page.errors == []


def test_page_inserts_payloads_as_text(page: LivePage, backend: RouterStack) -> None:
    """Markup inside a WAMP payload is shown as text, never parsed as HTML."""
    payload = "<img src=x id=injected>"

    async def call_hello() -> str:
        async with wamp_session(backend.ws_url) as session:
            greeting: str = await session.call(f"{PACKAGE}.public.hello", payload)
            return greeting

    greeting = run_async(call_hello())
    expect_event(page, greeting)
    assert page.tab.query_selector("#injected") is None
    assert page.errors == []


def test_page_has_no_secrets_and_a_csp(page: LivePage, backend: RouterStack) -> None:
    """The served page and script carry a Content-Security-Policy and none of the run's secrets."""
    html = page.tab.content()
    script = page.tab.evaluate("fetch('app.js').then(r => r.text())")
    assert 'http-equiv="Content-Security-Policy"' in html
    for name in ("BACKEND_SECRET", "TICKET_SECRET", "PUBLISHER_KEY", "PUBLISHER_SECRET"):
        if name in backend.env:
            assert backend.env[name] not in html
            assert backend.env[name] not in script
    assert "innerHTML" not in script


def sign_in_url(stack: RouterStack, user: str) -> str:
    """What `python -m <package>.tickets USER` prints for this router (TICKET_SECRET from the environment)."""
    src = str(PROJECT_DIR / "src")
    env = {**stack.env, "PYTHONPATH": os.pathsep.join(filter(None, [src, stack.env.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.tickets", user],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def signed_in(chromium: Any, backend: RouterStack) -> Iterator[tuple[str, str, LivePage]]:
    """(user, ticket, tab): a tab opened on the sign-in URL that `python -m <package>.tickets` prints."""
    user = new_user("alice")
    url = sign_in_url(backend, user)
    assert url.startswith(f"{backend.http_url}#ticket="), url
    ticket = url.split("#ticket=", 1)[1]
    for page in open_page(chromium, backend, ticket=ticket):
        yield user, ticket, page


def test_anonymous_page_is_not_signed_in(page: LivePage) -> None:
    """Without a ticket the page connects anonymously: hello works, the users' button stays disabled."""
    expect(page.tab.locator("#user")).to_have_text("not signed in")
    assert page.tab.is_enabled("#hello")
    assert page.tab.is_disabled(USER_BUTTON)
    assert page.errors == []


def test_page_signs_in_from_the_fragment(signed_in: tuple[str, str, LivePage]) -> None:
    """The sign-in URL signs the page in as its user; the ticket leaves the address bar for this tab's storage."""
    user, ticket, page = signed_in
    tab = page.tab
    expect(tab.locator("#user")).to_have_text(user)
    assert "ticket" not in tab.url and ticket not in tab.url
    assert tab.evaluate(f"window.sessionStorage.getItem('{PACKAGE}.ticket')") == ticket
    expect(tab.locator(USER_BUTTON)).to_be_enabled()
    tab.click("#whoami")
    expect(tab.locator("#notices li").first).to_have_text(f"notice for {user}")
    tab.reload()  # the same tab stays signed in from its storage
    expect(tab.locator("#status")).to_have_text("connected")
    expect(tab.locator("#user")).to_have_text(user)
    assert page.errors == []


def test_page_with_an_expired_ticket_is_refused(chromium: Any, backend: RouterStack) -> None:
    """An expired ticket is refused by the router: the page says so and forgets the ticket."""
    expired = tickets.issue(new_user("alice"), backend.env["TICKET_SECRET"], ttl=60, now=time.time() - 120)
    context = chromium.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{backend.http_url}#ticket={expired}")
        expect(tab.locator("#status")).to_have_text(re.compile(r"^sign-in refused"))
        assert tab.evaluate(f"window.sessionStorage.getItem('{PACKAGE}.ticket')") is None
        assert tab.is_disabled(USER_BUTTON)
    finally:
        context.close()
