"""The router with Crossbar proxy workers in front of its router worker (ROUTER_PROXIES=2), live.

The proxies share the public port: each accepts some of the connections, serves the page,
does the WebSocket and authentication, and forwards WAMP to the one router worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import SubscribeOptions

from router_fixtures import PACKAGE, RouterStack, backend_executor, router_vars, running_router, start
from wamp_client import (
    WAMP_TIMEOUT,
    ClientSession,
    handshake_status,
    new_user,
    resolve_once,
    run_async,
    ticket_for,
    wamp_session,
)

PROXIES = 2
EVENTS = f"{PACKAGE}.public.events"
HELLO = f"{PACKAGE}.public.hello"
WHOAMI = f"{PACKAGE}.account.whoami"
MAX_CONNECTIONS = 40  # the kernel spreads connections at random: two proxies answer long before this


@pytest.fixture(scope="module")
def proxied(
    crossbar_bin: str, stack_env: dict[str, str], log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RouterStack]:
    """`python -m <pkg>.router` with ROUTER_PROXIES=2, and a backend joined through the proxies."""
    env = {**stack_env, **router_vars(), "CROSSBAR_BIN": crossbar_bin, "ROUTER_PROXIES": str(PROXIES)}
    with running_router(env, log_dir / "proxies", tmp_path_factory.mktemp("proxies-run")) as stack:
        backend = start(backend_executor(stack.env, stack.log_dir / "backend.log"))
        try:
            yield stack
        finally:
            backend.stop()
            backend.close()


def proxy_of(session: ClientSession) -> str:
    """Which proxy worker the session came through (Crossbar tells each client in its welcome)."""
    worker: str = session.join_details.authextra["x_cb_proxy_worker"]
    return worker


async def sessions_on_two_proxies(ws_url: str, stack: contextlib.AsyncExitStack) -> tuple[ClientSession, ClientSession]:
    """Connect until two sessions came through different proxy workers (all stay open on `stack`)."""
    first = await stack.enter_async_context(wamp_session(ws_url))
    for _ in range(MAX_CONNECTIONS):
        other = await stack.enter_async_context(wamp_session(ws_url))
        if proxy_of(other) != proxy_of(first):
            return first, other
    raise AssertionError(f"{MAX_CONNECTIONS} connections all went to {proxy_of(first)}")


def test_clients_on_two_proxies_exchange_an_event_and_call_the_backend(proxied: RouterStack) -> None:
    """A call made through one proxy reaches the backend; its event reaches a client on the other proxy."""

    async def scenario() -> tuple[str, str, str, dict[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            caller, listener = await sessions_on_two_proxies(proxied.ws_url, stack)
            received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            await listener.subscribe(resolve_once(received), EVENTS)
            greeting: str = await asyncio.wait_for(caller.call(HELLO, "proxies"), WAMP_TIMEOUT)
            event = await asyncio.wait_for(received, WAMP_TIMEOUT)
            return proxy_of(caller), proxy_of(listener), greeting, event

    caller_proxy, listener_proxy, greeting, event = run_async(scenario(), timeout=120)
    assert caller_proxy != listener_proxy
    assert {caller_proxy, listener_proxy} <= {f"proxy{n}" for n in range(1, PROXIES + 1)}
    assert greeting.startswith("Hello, proxies!")
    assert event["greeting"] == greeting


def test_proxies_serve_the_page_and_check_origins(proxied: RouterStack) -> None:
    """Through the proxies the page is served, the page's origin is accepted and a foreign one refused.

    Several connections of each, as each may land on either proxy.
    """
    with urllib.request.urlopen(proxied.http_url, timeout=5) as response:
        assert b'id="hello"' in response.read()
    page_origin = f"http://127.0.0.1:{proxied.port}"
    accepted = [handshake_status(proxied.port, page_origin) for _ in range(6)]
    refused = [handshake_status(proxied.port, "http://evil.example") for _ in range(6)]
    assert all(" 101 " in status for status in accepted), accepted
    assert not any(" 101 " in status for status in refused), refused


def test_a_user_signs_in_through_the_proxies_and_only_reaches_their_own_topics(proxied: RouterStack) -> None:
    """Ticket sign-in works through the proxy workers (the authenticator and authorizer still decide)."""
    user = new_user("proxied")
    notices = f"{PACKAGE}.user.{user}.notices"

    async def scenario() -> tuple[str, str, dict[str, Any], str]:
        async with wamp_session(proxied.ws_url, ticket=ticket_for(proxied.env, user)) as session:
            received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            await session.subscribe(resolve_once(received), notices)
            answer = await asyncio.wait_for(session.call(WHOAMI), WAMP_TIMEOUT)
            notice = await asyncio.wait_for(received, WAMP_TIMEOUT)
            everyone = SubscribeOptions(match="prefix")
            try:
                await session.subscribe(lambda *args: None, f"{PACKAGE}.user.", options=everyone)
            except ApplicationError as exc:
                refused = str(exc.error)
            else:
                refused = "allowed"
            return session.join_details.authrole, answer["authid"], notice, refused

    role, authid, notice, refused = run_async(scenario(), timeout=120)
    assert (role, authid) == ("user", user)
    assert notice["authid"] == user
    assert refused == "wamp.error.not_authorized"
