"""The page in headless Chromium, served by the real router, talking to the real backend."""

from __future__ import annotations

import re

from router_fixtures import PACKAGE, LivePage, RouterStack, expect, run_async, wamp_session


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
    for name in ("BACKEND_SECRET", "PUBLISHER_KEY", "PUBLISHER_SECRET"):
        if name in backend.env:
            assert backend.env[name] not in html
            assert backend.env[name] not in script
    assert "innerHTML" not in script
