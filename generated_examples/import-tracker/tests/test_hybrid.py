"""The hybrid flow for real: browser -> WAMP RPC -> Celery task -> HTTP bridge -> browser.

Runs redis-server, a Celery worker (with the jobs module), the Crossbar router and the
backend component on 127.0.0.1 (fixtures in conftest.py and router_fixtures.py).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from autobahn.wamp.exception import ApplicationError

from import_tracker import bridge

from router_fixtures import (
    PACKAGE,
    WAMP_TIMEOUT,
    LivePage,
    RouterStack,
    expect,
    other_local_addresses,
    resolve_once,
    run_async,
    wamp_session,
)

PROGRESS = f"{PACKAGE}.public.jobs.progress"
RESULT = f"{PACKAGE}.public.jobs.result"
N_STEPS = 10
EXPECTED = sum(step * step for step in range(1, N_STEPS + 1))  # what process_job computes


@pytest.fixture
def bridge_env(router: RouterStack, monkeypatch: pytest.MonkeyPatch) -> RouterStack:
    """This process publishes through `router`'s HTTP bridge with the run's key and secret."""
    monkeypatch.delenv("ROUTER_HOST", raising=False)  # the default, 127.0.0.1
    for name in ("ROUTER_PORT", "PUBLISHER_KEY", "PUBLISHER_SECRET"):
        monkeypatch.setenv(name, router.env[name])
    return router


def _post(url: str, body: bytes, source: str | None = None) -> int:
    """POST `body` to `url` (from the local address `source`, if given); the HTTP status."""
    parts = urlsplit(url)
    source_address = (source, 0) if source else None
    connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=5, source_address=source_address)
    try:
        connection.request("POST", f"{parts.path}?{parts.query}", body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


# --- the HTTP bridge -------------------------------------------------------------------------


def test_bridge_publish_reaches_subscriber(bridge_env: RouterStack) -> None:
    """bridge.publish signs a request the router accepts, and a browser-role subscriber receives the event."""

    async def scenario() -> dict[str, Any]:
        async with wamp_session(bridge_env.ws_url) as session:
            received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            await session.subscribe(resolve_once(received), PROGRESS)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: bridge.publish(PROGRESS, {"job_id": "j-1", "percent": 42}))
            return await asyncio.wait_for(received, WAMP_TIMEOUT)

    assert run_async(scenario()) == {"job_id": "j-1", "percent": 42}


def test_bridge_refuses_unsigned_and_forged_requests(bridge_env: RouterStack) -> None:
    """The router refuses bridge requests that are unsigned, signed with a wrong secret or key, or stale.

    Also those signed with the literal ${PUBLISHER_KEY} and ${PUBLISHER_SECRET} that stand in
    .crossbar/config.json: the key and secret the router checks come from the environment.
    """
    env = bridge_env.env
    url = f"http://127.0.0.1:{bridge_env.port}/publish"
    body = json.dumps({"topic": PROGRESS, "args": [{"job_id": "forged", "percent": 1}]}).encode()
    assert _post(bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body), body) == 200
    assert _post(url, body) == 400  # unsigned
    assert _post(bridge.signed_url(url, env["PUBLISHER_KEY"], "wrong-secret", body), body) == 401
    assert _post(bridge.signed_url(url, "wrong-key", env["PUBLISHER_SECRET"], body), body) == 401
    assert _post(bridge.signed_url(url, "${PUBLISHER_KEY}", "${PUBLISHER_SECRET}", body), body) == 401
    tampered = bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body)
    assert _post(tampered, body.replace(b"forged", b"FORGED")) == 401  # body changed after signing
    stale_ts = bridge._timestamp(datetime.now(UTC) - timedelta(minutes=10))
    stale = "&".join(
        [
            f"key={env['PUBLISHER_KEY']}",
            f"timestamp={stale_ts}",
            "seq=1",
            "nonce=1",
            "signature=" + bridge.sign(env["PUBLISHER_SECRET"], env["PUBLISHER_KEY"], stale_ts, "1", "1", body),
        ]
    )
    assert _post(f"{url}?{stale}", body) == 400  # outside timestamp_delta_limit


def test_bridge_refuses_other_addresses(bridge_env: RouterStack) -> None:
    """A correctly signed bridge request sent from another address of this machine is refused (require_ip)."""
    env = bridge_env.env
    url = f"http://127.0.0.1:{bridge_env.port}/publish"
    body = json.dumps({"topic": PROGRESS, "args": [{"job_id": "elsewhere", "percent": 1}]}).encode()

    def signed() -> str:
        return bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body)

    assert _post(signed(), body) == 200
    statuses = {}
    for address in (address for address in other_local_addresses() if ":" not in address):
        try:
            statuses[address] = _post(signed(), body, source=address)
        except OSError:
            continue  # this machine does not route from that address to 127.0.0.1
    assert statuses, "no IPv4 address other than 127.0.0.1 to send from"
    assert all(400 <= status < 500 for status in statuses.values()), statuses


def test_bridge_client_reports_refusal(bridge_env: RouterStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """bridge.publish raises BridgeError (with the HTTP status) when the router refuses, within its timeout."""
    monkeypatch.setenv("PUBLISHER_SECRET", "wrong-secret")
    with pytest.raises(bridge.BridgeError, match="HTTP 401"):
        bridge.publish(PROGRESS, {"job_id": "x", "percent": 0})


# --- WAMP RPC -> Celery -> bridge --------------------------------------------------------------


def test_start_job_returns_task_id_and_streams_progress(hybrid_stack: RouterStack) -> None:
    """start_job returns the Celery task id at once; progress events and the result follow on their topics."""

    async def scenario() -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        loop = asyncio.get_running_loop()
        progress: list[dict[str, Any]] = []
        result: asyncio.Future[dict[str, Any]] = loop.create_future()
        async with wamp_session(hybrid_stack.ws_url) as session:
            await session.subscribe(progress.append, PROGRESS)
            await session.subscribe(resolve_once(result), RESULT)
            job_id: str = await asyncio.wait_for(session.call(f"{PACKAGE}.public.start_job", N_STEPS), WAMP_TIMEOUT)
            outcome = await asyncio.wait_for(result, 30)
        return job_id, progress, outcome

    job_id, progress, outcome = run_async(scenario(), timeout=60)
    uuid.UUID(job_id)  # a Celery task id
    assert outcome == {"job_id": job_id, "result": EXPECTED}
    mine = [event["percent"] for event in progress if event["job_id"] == job_id]
    assert mine == sorted(mine) and mine[-1] == 100 and len(mine) == N_STEPS


def test_start_job_rejects_bad_arguments(hybrid_stack: RouterStack) -> None:
    """start_job validates n_steps before anything is enqueued."""

    async def scenario() -> list[str]:
        errors = []
        async with wamp_session(hybrid_stack.ws_url) as session:
            for bad in (0, 10_000, "5", True):
                with pytest.raises(ApplicationError) as refused:
                    await session.call(f"{PACKAGE}.public.start_job", bad)
                errors.append(str(refused.value.error))
        return errors

    assert run_async(scenario()) == [f"{PACKAGE}.error.invalid_argument"] * 4


def test_page_runs_job_with_live_progress(hybrid_page: LivePage) -> None:
    """In the browser: Start job shows the job id, a progress bar that climbs to 100% and the result."""
    tab = hybrid_page.tab
    tab.evaluate(
        """() => {
            window.seenProgress = [];
            const bar = document.getElementById('progress');
            new MutationObserver(() => window.seenProgress.push(bar.value))
                .observe(bar, {attributes: true, attributeFilter: ['value']});
        }"""
    )
    tab.click("#start-job")
    expect(tab.locator("#job-id")).to_have_text(re.compile(r"^[0-9a-f-]{36}$"))
    uuid.UUID(tab.text_content("#job-id"))
    expect(tab.locator("#progress")).to_have_js_property("value", 100, timeout=30_000)
    expect(tab.locator("#result")).to_have_text(str(EXPECTED))
    seen = tab.evaluate("window.seenProgress")
    assert seen[-1] == 100 and any(0 < value < 100 for value in seen), seen
    assert tab.is_enabled("#start-job")
    assert hybrid_page.errors == []
