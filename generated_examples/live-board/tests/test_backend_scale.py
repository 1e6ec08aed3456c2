"""Backends that die, several backends side by side, and restarting them one at a time, live.

A router of its own for this module (so that no other test's backend takes calls), backends
started and killed through mirakuru (router_fixtures.py). The backends register their
procedures as shared registrations (invoke="roundrobin"), so the router spreads calls over
every backend that is running.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from autobahn.wamp.exception import ApplicationError

from router_fixtures import PACKAGE, BackendFactory, RouterStack, router_vars, running_router, start
from wamp_client import WAMP_TIMEOUT, ClientSession, run_async, wamp_session

HELLO = f"{PACKAGE}.public.hello"
# What a caller may get when no backend serves the procedure (or its backend died mid-call).
CLEAN_ERRORS = {"wamp.error.no_such_procedure", "wamp.error.canceled"}


@pytest.fixture(scope="module")
def scale_router(
    crossbar_bin: str, stack_env: dict[str, str], log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RouterStack]:
    """A router with no backend yet, on ports and secrets of its own."""
    env = {**stack_env, **router_vars(), "CROSSBAR_BIN": crossbar_bin}
    with running_router(env, log_dir / "scale", tmp_path_factory.mktemp("scale-run")) as stack:
        yield stack


async def call_number(session: ClientSession) -> int:
    """Call hello; the number of the call *at the backend that answered* (each counts its own)."""
    greeting: str = await asyncio.wait_for(session.call(HELLO, "scale"), WAMP_TIMEOUT)
    found = re.search(r"call #(\d+)", greeting)
    assert found, greeting
    return int(found.group(1))


async def error_of_call(session: ClientSession) -> str:
    """Call hello expecting it to fail; the error URI (a hang fails with TimeoutError)."""
    with pytest.raises(ApplicationError) as failed:
        await asyncio.wait_for(session.call(HELLO, "scale"), WAMP_TIMEOUT)
    return str(failed.value.error)


def test_killed_backend_gives_a_clean_error_then_serves_again(
    scale_router: RouterStack, start_backend: BackendFactory
) -> None:
    """With its only backend SIGKILLed a call fails at once with a WAMP error; after a restart it succeeds."""
    backend = start_backend(scale_router)

    async def scenario() -> tuple[int, str, int]:
        async with wamp_session(scale_router.ws_url) as session:
            before = await call_number(session)
            await asyncio.to_thread(backend.kill)  # SIGKILL to its process group, waits until it is gone
            error = await error_of_call(session)
            await asyncio.to_thread(start, backend)
            after = await call_number(session)
            return before, error, after

    before, error, after = run_async(scenario(), timeout=120)
    assert before >= 1
    assert error in CLEAN_ERRORS
    assert after == 1, "the restarted backend (a new process, counting from 1) answered"


def test_two_backends_share_the_procedures_and_both_answer(
    scale_router: RouterStack, start_backend: BackendFactory
) -> None:
    """Two backends register the same procedure (no procedure_already_exists) and take turns answering.

    Each counts its own calls, so four calls answered in turn come back as #1, #1, #2, #2;
    one backend answering all of them would count 1, 2, 3, 4.
    """
    start_backend(scale_router)
    start_backend(scale_router)

    async def scenario() -> list[int]:
        async with wamp_session(scale_router.ws_url) as session:
            return [await call_number(session) for _ in range(4)]

    assert sorted(run_async(scenario())) == [1, 1, 2, 2]


def test_calls_keep_succeeding_when_one_of_two_backends_dies_and_through_a_rolling_restart(
    scale_router: RouterStack, start_backend: BackendFactory
) -> None:
    """One of two backends SIGKILLed: calls keep succeeding; then each is restarted in turn while calls go on.

    A caller calls hello over and over the whole time; every call must succeed.
    """
    first, second = start_backend(scale_router), start_backend(scale_router)

    async def scenario() -> tuple[list[int], int, list[int]]:
        async with wamp_session(scale_router.ws_url) as session:
            await asyncio.to_thread(first.kill)
            alone = [await call_number(session) for _ in range(4)]
            await asyncio.to_thread(start, first)

            answered: list[int] = []
            done = asyncio.Event()

            async def keep_calling() -> None:
                while not done.is_set():
                    answered.append(await call_number(session))

            caller = asyncio.create_task(keep_calling())
            restarted = 0
            for backend in (first, second):  # a rolling restart: stop one, start it again, then the next
                await asyncio.to_thread(backend.stop)  # SIGTERM: it drains, then leaves
                await asyncio.to_thread(start, backend)
                restarted += 1
            done.set()
            await caller  # re-raises the first call that failed
            return alone, restarted, answered

    alone, restarted, answered = run_async(scenario(), timeout=180)
    assert alone == [1, 2, 3, 4], "the survivor answered every call while the other was dead"
    assert restarted == 2
    assert answered, "no call was made during the rolling restart"
