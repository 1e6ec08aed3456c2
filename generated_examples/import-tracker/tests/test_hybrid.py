"""The hybrid flow for real: browser -> WAMP RPC -> Celery task -> HTTP bridge -> browser.

Runs redis-server, a Celery worker (with the jobs module), the Crossbar router and the
backend component on 127.0.0.1 (fixtures in conftest.py and router_fixtures.py). Users sign
in with tickets (tickets.py); each test has users of its own (new_user), since the quota and
the topics are per user.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import SubscribeOptions
from mirakuru import OutputExecutor

from import_tracker import backend as backend_module
from import_tracker import bridge
from import_tracker.jobs import job_event, job_topic

from router_fixtures import PACKAGE, PROJECT_DIR, LivePage, RouterStack, expect, free_port, open_page
from wamp_client import (
    WAMP_TIMEOUT,
    new_user,
    other_local_addresses,
    resolve_once,
    run_async,
    ticket_for,
    wamp_session,
)

START_JOB = backend_module.START_JOB
N_STEPS = 10
EXPECTED = sum(step * step for step in range(1, N_STEPS + 1))  # what process_job computes
NOT_AUTHORIZED = "wamp.error.not_authorized"


@pytest.fixture
def bridge_env(router: RouterStack, monkeypatch: pytest.MonkeyPatch) -> RouterStack:
    """This process publishes through `router`'s HTTP bridge with the run's key and secret."""
    monkeypatch.delenv("ROUTER_HOST", raising=False)  # the default, 127.0.0.1
    for name in ("ROUTER_PORT", "ROUTER_INTERNAL_PORT", "PUBLISHER_KEY", "PUBLISHER_SECRET"):
        monkeypatch.setenv(name, router.env[name])
    return router


def internal_url(stack: RouterStack) -> str:
    return f"http://127.0.0.1:{stack.env['ROUTER_INTERNAL_PORT']}/publish"


def _post(url: str, body: bytes, source: str | None = None) -> tuple[int, str]:
    """POST `body` to `url` (from the local address `source`, if given); the HTTP status and body."""
    parts = urlsplit(url)
    source_address = (source, 0) if source else None
    connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=5, source_address=source_address)
    try:
        connection.request("POST", f"{parts.path}?{parts.query}", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _signed_post(stack: RouterStack, url: str, topic: str, payload: dict[str, Any]) -> tuple[int, str]:
    body = json.dumps({"topic": topic, "args": [payload]}).encode()
    env = stack.env
    return _post(bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body), body)


# --- the HTTP bridge -------------------------------------------------------------------------


def test_bridge_publish_reaches_the_user(bridge_env: RouterStack, backend: RouterStack) -> None:
    """bridge.publish signs a request the router accepts; the user whose job topic it is receives the event.

    (The backend signs the user in: it is the router's ticket authenticator.)
    """
    alice = new_user("alice")
    event = job_event("j-1", 1, "progress", percent=42)

    async def scenario() -> dict[str, Any]:
        async with wamp_session(bridge_env.ws_url, ticket=ticket_for(bridge_env.env, alice)) as session:
            received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            await session.subscribe(resolve_once(received), job_topic(alice))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: bridge.publish(job_topic(alice), event))
            return await asyncio.wait_for(received, WAMP_TIMEOUT)

    assert run_async(scenario()) == event


def test_bridge_is_only_on_the_internal_port(bridge_env: RouterStack) -> None:
    """On the public port /publish is no bridge: a correctly signed request is refused; the internal port takes it.

    (The public port serves only static files there: 405 for the POST, 404 for a GET.) The
    internal port, like the public one, listens on 127.0.0.1 only.
    """
    topic, event = job_topic(new_user("alice")), job_event("j-2", 1, "progress", percent=1)
    public = f"http://127.0.0.1:{bridge_env.port}/publish"
    status, body = _signed_post(bridge_env, public, topic, event)
    assert status in (404, 405) and '"id"' not in body, (status, body)
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(public, timeout=5)
    assert missing.value.code == 404
    status, body = _signed_post(bridge_env, internal_url(bridge_env), topic, event)
    assert status == 200 and "id" in json.loads(body), body
    port = int(bridge_env.env["ROUTER_INTERNAL_PORT"])
    elsewhere = [address for address in other_local_addresses() if ":" not in address]
    assert elsewhere, "no IPv4 address other than 127.0.0.1 to test from"
    for address in elsewhere:
        with pytest.raises(OSError):
            http.client.HTTPConnection(address, port, timeout=2).connect()


def test_bridge_may_only_publish_job_events(bridge_env: RouterStack) -> None:
    """The bridge's role (publisher) may publish job events only: internal, public and notice topics are refused."""
    url = internal_url(bridge_env)
    alice = new_user("alice")
    allowed = _signed_post(bridge_env, url, job_topic(alice), job_event("j-3", 1, "progress", percent=1))
    assert allowed[0] == 200 and "id" in json.loads(allowed[1]), allowed
    answers = {
        topic: _signed_post(bridge_env, url, topic, {"forged": True})
        for topic in (
            f"{PACKAGE}.internal.admin",
            f"{PACKAGE}.public.events",
            f"{PACKAGE}.user.{alice}.notices",
            f"{PACKAGE}.user.{alice}.jobs.extra",
        )
    }
    for topic, (_, body) in answers.items():  # Crossbar answers 200 with the error, and no publication id
        assert json.loads(body).get("error") == NOT_AUTHORIZED and "id" not in json.loads(body), (topic, body)


def test_bridge_refuses_unsigned_and_forged_requests(bridge_env: RouterStack) -> None:
    """The router refuses bridge requests that are unsigned, signed with a wrong secret or key, stale or too big.

    Also those signed with the literal ${PUBLISHER_KEY} and ${PUBLISHER_SECRET} that stand in
    .crossbar/config.json: the key and secret the router checks come from the environment.
    """
    env = bridge_env.env
    url = internal_url(bridge_env)
    body = json.dumps({"topic": job_topic("forger"), "args": [{"job_id": "forged", "seq": 1}]}).encode()

    def status(signed: str, sent: bytes = body) -> int:
        return _post(signed, sent)[0]

    assert status(bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body)) == 200
    assert status(url) == 400  # unsigned
    assert status(bridge.signed_url(url, env["PUBLISHER_KEY"], "wrong-secret", body)) == 401
    assert status(bridge.signed_url(url, "wrong-key", env["PUBLISHER_SECRET"], body)) == 401
    assert status(bridge.signed_url(url, "${PUBLISHER_KEY}", "${PUBLISHER_SECRET}", body)) == 401
    tampered = bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body)
    assert status(tampered, body.replace(b"forged", b"FORGED")) == 401  # body changed after signing
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
    assert status(f"{url}?{stale}") == 400  # outside timestamp_delta_limit
    padding = "x" * 70_000  # over post_body_limit (64 KiB), correctly signed
    oversized = json.dumps({"topic": job_topic("forger"), "args": [{"job_id": padding, "seq": 1}]}).encode()
    signed = bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], oversized)
    assert 400 <= status(signed, oversized) < 500


def test_bridge_refuses_other_addresses(bridge_env: RouterStack) -> None:
    """A correctly signed bridge request sent from another address of this machine is refused (require_ip)."""
    env = bridge_env.env
    url = internal_url(bridge_env)
    body = json.dumps({"topic": job_topic("elsewhere"), "args": [{"job_id": "elsewhere", "seq": 1}]}).encode()

    def signed() -> str:
        return bridge.signed_url(url, env["PUBLISHER_KEY"], env["PUBLISHER_SECRET"], body)

    assert _post(signed(), body)[0] == 200
    statuses = {}
    for address in (address for address in other_local_addresses() if ":" not in address):
        try:
            statuses[address] = _post(signed(), body, source=address)[0]
        except OSError:
            continue  # this machine does not route from that address to 127.0.0.1
    assert statuses, "no IPv4 address other than 127.0.0.1 to send from"
    assert all(400 <= status < 500 for status in statuses.values()), statuses


def test_bridge_client_reports_refusal(bridge_env: RouterStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """bridge.publish raises BridgeError (with the HTTP status) when the router refuses, within its timeout."""
    monkeypatch.setenv("PUBLISHER_SECRET", "wrong-secret")
    with pytest.raises(bridge.BridgeError, match="HTTP 401"):
        bridge.publish(job_topic("nobody"), job_event("x", 1, "progress", percent=0))


# --- WAMP RPC -> Celery -> bridge --------------------------------------------------------------


async def run_job(stack: RouterStack, user: str, n_steps: int, deadline: float = 30) -> tuple[str, list[Any]]:
    """As `user`: start a job and collect its events until its result; (job id, events in order)."""
    loop = asyncio.get_running_loop()
    events: list[Any] = []
    done: asyncio.Future[None] = loop.create_future()

    def on_event(event: Any) -> None:
        events.append(event)
        if event.get("kind") == "result" and not done.done():
            done.set_result(None)

    async with wamp_session(stack.ws_url, ticket=ticket_for(stack.env, user)) as session:
        await session.subscribe(on_event, job_topic(user))
        job_id: str = await asyncio.wait_for(session.call(START_JOB, n_steps), WAMP_TIMEOUT)
        await asyncio.wait_for(done, deadline)
    return job_id, events


def test_start_job_returns_job_id_and_streams_progress(hybrid_stack: RouterStack) -> None:
    """jobs.start returns the job id at once; numbered progress events and the result follow on the user's topic."""
    alice = new_user("alice")
    job_id, events = run_async(run_job(hybrid_stack, alice, N_STEPS), timeout=60)
    uuid.UUID(job_id)  # a Celery task id
    assert {event["job_id"] for event in events} == {job_id}
    assert [event["seq"] for event in events] == list(range(1, N_STEPS + 2))
    assert [event["percent"] for event in events[:-1]] == [round(100 * s / N_STEPS) for s in range(1, N_STEPS + 1)]
    assert events[-1] == job_event(job_id, N_STEPS + 1, "result", result=EXPECTED)


def test_start_job_rejects_bad_arguments(hybrid_stack: RouterStack) -> None:
    """jobs.start validates n_steps before anything is enqueued."""

    async def scenario() -> list[str]:
        errors = []
        ticket = ticket_for(hybrid_stack.env, new_user("alice"))
        async with wamp_session(hybrid_stack.ws_url, ticket=ticket) as session:
            for bad in (0, 10_000, "5", True):
                with pytest.raises(ApplicationError) as refused:
                    await session.call(START_JOB, bad)
                errors.append(str(refused.value.error))
        return errors

    assert run_async(scenario()) == [f"{PACKAGE}.error.invalid_argument"] * 4


def test_user_never_receives_another_users_job_events(hybrid_stack: RouterStack) -> None:
    """Bob, subscribed by prefix to his namespace, gets none of Alice's job events; the user space is closed to him.

    Alice runs a job to its result; then Bob runs one: Bob's subscription saw only his own job.
    """
    alice, bob = new_user("alice"), new_user("bob")

    async def scenario() -> tuple[str, list[Any], dict[str, str], str, list[Any]]:
        bob_saw: list[Any] = []
        prefix = SubscribeOptions(match="prefix")
        async with wamp_session(hybrid_stack.ws_url, ticket=ticket_for(hybrid_stack.env, bob)) as bob_session:
            await bob_session.subscribe(bob_saw.append, f"{PACKAGE}.user.{bob}.", options=prefix)
            refused = {}
            for what, topic, options in (
                ("alice's jobs", job_topic(alice), None),
                ("the user space by prefix", f"{PACKAGE}.user.", prefix),
                ("every job by wildcard", f"{PACKAGE}.user..jobs", SubscribeOptions(match="wildcard")),
            ):
                with pytest.raises(ApplicationError) as denied:
                    await bob_session.subscribe(bob_saw.append, topic, options=options)
                refused[what] = str(denied.value.error)
            alice_job, alice_events = await run_job(hybrid_stack, alice, 2)
            bob_job, _ = await run_job(hybrid_stack, bob, 1)
        return alice_job, alice_events, refused, bob_job, bob_saw

    alice_job, alice_events, refused, bob_job, bob_saw = run_async(scenario(), timeout=90)
    assert refused == dict.fromkeys(refused, NOT_AUTHORIZED) and len(refused) == 3
    assert alice_events and {event["job_id"] for event in alice_events} == {alice_job}
    assert bob_saw and {event["job_id"] for event in bob_saw} == {bob_job}


def test_quota_stops_a_flood_and_others_jobs_still_finish(hybrid_stack: RouterStack) -> None:
    """A user starting 20 jobs at once gets most refused (quota_exceeded); another's one-step job still completes.

    (Without the quota, 20 queued jobs kept a one-step job from finishing within 15 s.)
    """
    mallory, alice = new_user("mallory"), new_user("alice")

    async def scenario() -> tuple[list[str], list[str], str, list[Any]]:
        async with wamp_session(hybrid_stack.ws_url, ticket=ticket_for(hybrid_stack.env, mallory)) as session:
            answers = await asyncio.gather(
                *(session.call(START_JOB, N_STEPS) for _ in range(20)), return_exceptions=True
            )
        started = [str(answer) for answer in answers if isinstance(answer, str)]
        refused = [str(answer.error) for answer in answers if isinstance(answer, ApplicationError)]
        job_id, events = await run_job(hybrid_stack, alice, 1, deadline=20)
        return started, refused, job_id, events

    started, refused, job_id, events = run_async(scenario(), timeout=90)
    assert 1 <= len(started) <= 2, started  # JOB_MAX_RUNNING (default 2)
    assert refused == [f"{PACKAGE}.error.quota_exceeded"] * (20 - len(started))
    assert events[-1] == job_event(job_id, 2, "result", result=1)


def test_errors_carry_no_internal_address(hybrid_stack: RouterStack, log_dir: Path) -> None:
    """With the broker unreachable, jobs.start fails with <pkg>.error.internal and a reference, never an address.

    A second backend joins with the broker pointing at a closed port; the router shares the
    registrations between both backends, so within a few calls one reaches it.
    """
    closed_port = free_port()
    env = {
        **hybrid_stack.env,
        "REDIS_PORT": str(closed_port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR / "src"), hybrid_stack.env.get("PYTHONPATH")])),
    }
    broken = OutputExecutor(
        [sys.executable, "-m", f"{PACKAGE}.backend"],
        banner=backend_module.READY_LINE,
        timeout=60,
        envvars=env,
        cwd=str(PROJECT_DIR),
    )
    broken.start()
    try:
        errors = run_async(internal_errors(hybrid_stack, new_user("alice")), timeout=60)
    finally:
        broken.stop()
    assert errors, "no call reached the backend whose broker is down"
    for error in errors:
        assert error.error == f"{PACKAGE}.error.internal"
        text = f"{error.args!r} {error.kwargs!r}"
        assert re.fullmatch(r"\('internal error \(reference [0-9a-f]{12}\)',\) \{\}", text), text
        for leak in (str(closed_port), "127.0.0.1", "Traceback", "redis", "Error 111"):
            assert leak not in text


async def internal_errors(stack: RouterStack, user: str, calls: int = 4) -> list[ApplicationError]:
    """Call jobs.start `calls` times as `user`; the internal errors among the answers."""
    errors = []
    async with wamp_session(stack.ws_url, ticket=ticket_for(stack.env, user)) as session:
        for _ in range(calls):
            try:
                await asyncio.wait_for(session.call(START_JOB, 1), WAMP_TIMEOUT)
            except ApplicationError as exc:
                if exc.error != f"{PACKAGE}.error.quota_exceeded":
                    errors.append(exc)
    return errors


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture
def alice_page(chromium: Any, hybrid_stack: RouterStack) -> Any:
    """A tab on the page, signed in as a new user "alice-…" with a ticket in the URL fragment."""
    user = new_user("alice")
    for page in open_page(chromium, hybrid_stack, ticket=ticket_for(hybrid_stack.env, user)):
        yield user, page


def test_page_runs_job_with_live_progress(alice_page: tuple[str, LivePage]) -> None:
    """Signed in: Start job shows the job id, a progress bar that climbs to 100% and the result."""
    user, live = alice_page
    tab = live.tab
    expect(tab.locator("#user")).to_have_text(user)
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
    assert live.errors == []


def test_replayed_bridge_request_changes_nothing_on_the_page(
    alice_page: tuple[str, LivePage], bridge_env: RouterStack
) -> None:
    """A signed bridge request sent twice is accepted twice by the router, and the page shows nothing new.

    After the page's job finished, the test sends the worker's progress event at 50% for that
    job (a request as the worker built it) and then the same request again. The page ignores
    both (a seq it has seen, after the result). A hello call from the page afterwards proves the
    page had processed them: the router sends the events to the page before the bridge answers.
    """
    user, live = alice_page
    tab = live.tab
    tab.click("#start-job")
    expect(tab.locator("#result")).to_have_text(str(EXPECTED), timeout=30_000)
    job_id = tab.text_content("#job-id")
    tab.evaluate(
        """() => {
            window.changes = [];
            for (const id of ['progress', 'result', 'job-id']) {
                new MutationObserver(() => window.changes.push(id)).observe(
                    document.getElementById(id),
                    {attributes: true, childList: true, characterData: true, subtree: true});
            }
        }"""
    )
    captured = bridge.build_request(job_topic(user), job_event(job_id, 5, "progress", percent=50))
    first = bridge.send(captured)
    replayed = bridge.send(captured)  # the very same signed request, within its timestamp window
    assert replayed != first  # the router published the replay as a new event
    tab.click("#hello")
    expect(tab.locator("#hello-result")).to_have_text(re.compile(r"^Hello, browser!"))
    assert tab.evaluate("window.changes") == []
    expect(tab.locator("#progress")).to_have_js_property("value", 100)
    expect(tab.locator("#result")).to_have_text(str(EXPECTED))
    assert live.errors == []
