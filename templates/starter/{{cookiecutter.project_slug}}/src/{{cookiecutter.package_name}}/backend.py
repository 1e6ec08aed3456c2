"""The backend WAMP component (Autobahn, asyncio).

It authenticates to the router with WAMP-CRA as authid ``backend`` (secret from
BACKEND_SECRET; the router gives it the role ``backend``) and registers:

- ``{{ cookiecutter.package_name }}.public.hello(name="world")``: returns a greeting with a call counter and
  publishes each call on ``{{ cookiecutter.package_name }}.public.events``;
{%- if cookiecutter.stack == "hybrid" %}
- ``{{ cookiecutter.package_name }}.public.start_job(n_steps)``: enqueues the Celery task
  ``{{ cookiecutter.package_name }}.jobs.process_job`` and returns its task id at once; the task publishes
  its progress and result through the router's HTTP bridge (see jobs.py).
{%- endif %}

Run it with ``python -m {{ cookiecutter.package_name }}.backend`` (scripts/run does). Environment: BACKEND_SECRET
(required), ROUTER_HOST and ROUTER_PORT (where the router is), BACKEND_MAX_RETRIES (connection
attempts before giving up, default 10){% if cookiecutter.stack == "hybrid" %} and the broker variables (celery_app.py){% endif %}.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import txaio
from autobahn.asyncio.component import Component
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions

{%- if cookiecutter.stack == "hybrid" %}

from .jobs import process_job
from .settings import Settings
{%- else %}

from .settings import Settings
{%- endif %}

PACKAGE = "{{ cookiecutter.package_name }}"
REALM = PACKAGE
HELLO = f"{PACKAGE}.public.hello"
EVENTS = f"{PACKAGE}.public.events"
{%- if cookiecutter.stack == "hybrid" %}
START_JOB = f"{PACKAGE}.public.start_job"
MAX_STEPS = 100
ENQUEUE_TIMEOUT = 10.0  # seconds; Celery's producer can block for long when the broker is down
{%- endif %}
READY_LINE = "backend ready"
MAX_NAME_LENGTH = 100
DRAIN_TIMEOUT = 10.0  # seconds a stopping backend waits for the calls it is running

log = logging.getLogger(f"{PACKAGE}.backend")


class Drain:
    """A graceful stop, so that backends can be restarted one at a time without failing calls.

    On SIGTERM the backend first unregisters its procedures (the router sends new calls to
    the other backends), then lets the calls it is running finish, and only then leaves.
    """

    def __init__(self) -> None:
        self.registrations: list[Any] = []
        self.running = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def counted(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """`handler`, counted among the running calls while it runs."""

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.running += 1
            self.idle.clear()
            try:
                return await handler(*args, **kwargs)
            finally:
                self.running -= 1
                if not self.running:
                    self.idle.set()

        return call

    async def __call__(self) -> None:
        for registration in self.registrations:
            if registration.active:
                await registration.unregister()
        await asyncio.wait_for(self.idle.wait(), DRAIN_TIMEOUT)


def make_component(env: Mapping[str, str], drain: Drain | None = None) -> Component:
    """Build the component from the environment (BACKEND_SECRET is required)."""
    secret = env.get("BACKEND_SECRET")
    if not secret:
        raise SystemExit("BACKEND_SECRET is not set: refusing to start the backend (see .env.example)")
    settings = Settings.from_env(env)

    component = Component(
        transports=[
            {
                "type": "websocket",
                "url": settings.router_url(),
                "serializers": ["json"],
                # Autobahn retries forever by default; give up after a bounded number of tries.
                "max_retries": int(env.get("BACKEND_MAX_RETRIES", "10")),
                "initial_retry_delay": 0.5,
                "max_retry_delay": 5,
            }
        ],
        realm=REALM,
        authentication={"wampcra": {"authid": "backend", "secret": secret}},
    )

    state = {"count": 0}
    # Shared registrations: several backends may register the same procedures and the router
    # spreads the calls over them, so backends can be scaled out and restarted one at a time
    # (https://github.com/crossbario/crossbar/blob/master/docs/Shared-Registrations.rst).
    shared = RegisterOptions(invoke="roundrobin")
    drain = drain or Drain()

    @component.on_join
    async def joined(session: Any, details: Any) -> None:
        drain.registrations.clear()  # those of an earlier session (after a reconnect) are gone

        async def hello(name: str = "world") -> str:
            if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
                raise ApplicationError(
                    f"{PACKAGE}.error.invalid_argument",
                    f"name must be a non-empty string of at most {MAX_NAME_LENGTH} characters",
                )
            state["count"] += 1
            greeting = f"Hello, {name}! (call #{state['count']})"
            await session.publish(
                EVENTS,
                {"kind": "hello", "count": state["count"], "greeting": greeting},
                options=PublishOptions(acknowledge=True),
            )
            return greeting

        drain.registrations.append(await session.register(drain.counted(hello), HELLO, options=shared))
{%- if cookiecutter.stack == "hybrid" %}

        async def start_job(n_steps: int) -> str:
            if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= MAX_STEPS:
                raise ApplicationError(
                    f"{PACKAGE}.error.invalid_argument",
                    f"n_steps must be an integer between 1 and {MAX_STEPS}",
                )
            loop = asyncio.get_running_loop()
            # Celery's client is synchronous: never call it on the event loop's thread.
            future = loop.run_in_executor(None, lambda: process_job.apply_async(args=[n_steps]))
            try:
                result = await asyncio.wait_for(future, ENQUEUE_TIMEOUT)
            except TimeoutError:
                raise ApplicationError(
                    f"{PACKAGE}.error.queue_unavailable", "the task queue did not accept the job in time"
                ) from None
            return str(result.id)

        drain.registrations.append(await session.register(drain.counted(start_job), START_JOB, options=shared))
{%- endif %}

        log.info("%s (realm %s, session %s)", READY_LINE, REALM, details.session)
        print(READY_LINE, flush=True)  # the launcher (router.start_backend) waits for this line

    return component


async def _serve(component: Component, drain: Drain) -> int:
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop  # type: ignore[attr-defined]  # txaio sets up config at import
    done = asyncio.ensure_future(component.start(loop))
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    stopper = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({done, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopping.is_set() and not done.done():
        try:
            await drain()
        except Exception as exc:  # noqa: BLE001 (stopping anyway: the router may be gone, or a call hangs)
            log.info("backend stopping before its calls finished: %r", exc)
        await component.stop()
        try:
            await asyncio.wait_for(done, 5)
        except Exception as exc:  # noqa: BLE001 (shutting down anyway; includes the timeout)
            log.info("backend stopping: %r", exc)
        return 0
    stopper.cancel()
    try:
        done.result()
    except Exception as exc:  # noqa: BLE001 (whatever ended the component: report it, exit 1)
        log.error("backend stopped: %s", exc)
        return 1
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(message)s")
    txaio.use_asyncio()  # Autobahn's asyncio logging goes through the logging module
    drain = Drain()
    component = make_component(os.environ, drain)
    return asyncio.run(_serve(component, drain))


if __name__ == "__main__":
    sys.exit(main())
