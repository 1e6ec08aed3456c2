"""The backend WAMP component (Autobahn, asyncio).

It authenticates to the router with WAMP-CRA as authid ``backend`` (secret from
BACKEND_SECRET; the router gives it the role ``backend``) and registers, each with a shared
registration (``invoke="roundrobin"``) so that several backends can run side by side and be
restarted one at a time:

- ``import_tracker.auth.authenticate``: the router's dynamic ticket authenticator. It checks a
  browser's ticket (tickets.py, secret TICKET_SECRET) and gives the session the ticket's user
  id as authid and the role ``user``;
- ``import_tracker.auth.authorize``: the router's dynamic authorizer for the role ``user``. A
  user may call the procedures below, subscribe to ``import_tracker.public.events`` and to
  topics inside ``import_tracker.user.<own authid>.`` (exact, or by prefix inside it), and
  nothing else: no wildcard subscriptions, no publishing, no registering;
- ``import_tracker.public.hello(name="world")``: returns a greeting with a call counter and
  publishes each call on ``import_tracker.public.events`` (anonymous visitors may call it);
- ``import_tracker.account.whoami()`` (signed-in users): returns the caller's authid and
  publishes a notice on ``import_tracker.user.<authid>.notices``, which only that user receives;
- ``import_tracker.jobs.start(n_steps)`` (signed-in users, within their quota, quota.py):
  enqueues the Celery task ``import_tracker.jobs.process_job`` for the caller and returns its
  job id at once; the task publishes its progress and result on
  ``import_tracker.user.<authid>.jobs`` through the router's HTTP bridge (see jobs.py).

Errors: an ApplicationError raised on purpose reaches the caller as it is; any other exception
is logged here in full and the caller gets ``import_tracker.error.internal`` with a reference
id only, never an address, a path or a traceback.

Stopping (SIGTERM or SIGINT) drains: the backend unregisters first, so the router hands new
calls to the other backends, lets the calls it is running finish (at most DRAIN_TIMEOUT), and
only then leaves.

Run it with ``python -m import_tracker.backend`` (scripts/run does). Environment: BACKEND_SECRET
and TICKET_SECRET (required), ROUTER_HOST and ROUTER_PORT (where the router is),
BACKEND_MAX_RETRIES (connection attempts before giving up; default -1, for ever, so a
supervisor never has to restart it for a router that restarts), the broker variables
(celery_app.py) and JOB_STARTS_PER_MINUTE and JOB_MAX_RUNNING (quota.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import txaio
from autobahn.asyncio.component import Component
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallDetails, RegisterOptions

from . import tickets
from .jobs import process_job
from .quota import QuotaExceededError, make_quota
from .settings import Settings

PACKAGE = "import_tracker"
REALM = PACKAGE
AUTHENTICATE = f"{PACKAGE}.auth.authenticate"
AUTHORIZE = f"{PACKAGE}.auth.authorize"
HELLO = f"{PACKAGE}.public.hello"
EVENTS = f"{PACKAGE}.public.events"
WHOAMI = f"{PACKAGE}.account.whoami"
USER_TOPICS = f"{PACKAGE}.user."
START_JOB = f"{PACKAGE}.jobs.start"
MAX_STEPS = 100
ENQUEUE_TIMEOUT = 10.0  # seconds; Celery's producer can block for long when the broker is down
# What a signed-in user may call; True: the router tells the callee who called (caller disclosure).
USER_CALLS = {HELLO: False, WHOAMI: True, START_JOB: True}
USER_ROLE = "user"
READY_LINE = "backend ready"
MAX_NAME_LENGTH = 100
DRAIN_TIMEOUT = 10.0  # seconds a stopping backend waits for the calls it is running
INTERNAL_ERROR = f"{PACKAGE}.error.internal"
NOT_AUTHORIZED = "wamp.error.not_authorized"
# One registration shared by every backend: the router hands each call to the next one.
SHARED = RegisterOptions(invoke="roundrobin")
SHARED_WITH_DETAILS = RegisterOptions(invoke="roundrobin", details_arg="details")

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


def sanitized(procedure: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap `procedure` so that an unexpected exception reaches the caller as a bare reference.

    Autobahn would send the exception's text (for instance a broker's address) to the caller.
    """

    @functools.wraps(procedure)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await procedure(*args, **kwargs)
        except ApplicationError:
            raise
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("internal error %s in %s", reference, procedure.__name__)
            raise ApplicationError(INTERNAL_ERROR, f"internal error (reference {reference})") from None

    return wrapper


def authenticate_ticket(details: Mapping[str, Any], secret: str) -> dict[str, str]:
    """The principal for a ticket the router received (``details["ticket"]``), or not_authorized."""
    try:
        user = tickets.verify(details.get("ticket"), secret)
    except tickets.TicketError as exc:
        raise ApplicationError(NOT_AUTHORIZED, f"ticket refused: {exc}") from None
    return {"authid": user, "role": USER_ROLE}


def authorize_user(session: Mapping[str, Any], uri: str, action: str, options: Mapping[str, Any] | None) -> Any:
    """What the router lets a session of the role ``user`` do (False: refused)."""
    if session.get("authrole") != USER_ROLE:
        return False
    authid = str(session.get("authid") or "")
    if not tickets.USER_ID.fullmatch(authid):
        return False
    if action == "call" and uri in USER_CALLS:
        # The same answer for every user, so the router may cache it. Crossbar caches by
        # (realm, role, uri, action), not per session: never cache a decision about a topic.
        return {"allow": True, "disclose": USER_CALLS[uri], "cache": True}
    if action != "subscribe":
        return False  # no publish, no register
    match = (options or {}).get("match", "exact")
    if match == "exact" and uri == EVENTS:
        return True
    # Only inside the user's own namespace, with the trailing dot: the prefix "...user.alice"
    # would also match "...user.alice2.jobs". Never a wildcard (it could skip the authid part).
    own = f"{USER_TOPICS}{authid}."
    return match in ("exact", "prefix") and uri.startswith(own)


def caller_authid(details: CallDetails | None) -> str:
    """The authid the router disclosed for this call (only signed-in users reach these procedures)."""
    authid = details.caller_authid if details is not None else None
    if not authid or not tickets.USER_ID.fullmatch(authid):
        raise ApplicationError(NOT_AUTHORIZED, "sign in first")
    return str(authid)


def make_component(env: Mapping[str, str], drain: Drain | None = None) -> Component:
    """Build the component from the environment (BACKEND_SECRET and TICKET_SECRET are required)."""
    secret = env.get("BACKEND_SECRET")
    if not secret:
        raise SystemExit("BACKEND_SECRET is not set: refusing to start the backend (see .env.example)")
    ticket_secret = env.get("TICKET_SECRET", "")
    try:
        tickets.check_secret(ticket_secret)
    except tickets.TicketError as exc:
        raise SystemExit(f"{exc}: refusing to start the backend (see .env.example)") from None
    settings = Settings.from_env(env)
    quota = make_quota(settings)

    component = Component(
        transports=[
            {
                "type": "websocket",
                "url": settings.router_url(),
                "serializers": ["json"],
                # -1: for ever (the default) unless BACKEND_MAX_RETRIES says otherwise.
                "max_retries": int(env.get("BACKEND_MAX_RETRIES", "-1")),
                "initial_retry_delay": 0.5,
                "max_retry_delay": 5,
            }
        ],
        realm=REALM,
        authentication={"wampcra": {"authid": "backend", "secret": secret}},
    )

    state = {"count": 0}
    drain = drain or Drain()

    @component.on_join
    async def joined(session: Any, details: Any) -> None:
        drain.registrations.clear()  # those of an earlier session (after a reconnect) are gone

        @sanitized
        async def authenticate(realm: str, authid: str | None, details: dict[str, Any]) -> dict[str, str]:
            return authenticate_ticket(details, ticket_secret)

        @sanitized
        async def authorize(
            caller: dict[str, Any], uri: str, action: str, options: dict[str, Any] | None = None
        ) -> Any:
            return authorize_user(caller, uri, action, options)

        @sanitized
        async def hello(name: str = "world") -> str:
            if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
                raise ApplicationError(
                    f"{PACKAGE}.error.invalid_argument",
                    f"name must be a non-empty string of at most {MAX_NAME_LENGTH} characters",
                )
            state["count"] += 1
            greeting = f"Hello, {name}! (call #{state['count']})"
            # Not acknowledged: the caller gets the greeting without waiting for the router's
            # confirmation of the event (one round trip less per call).
            session.publish(EVENTS, {"kind": "hello", "count": state["count"], "greeting": greeting})
            return greeting

        @sanitized
        async def whoami(details: CallDetails | None = None) -> dict[str, str]:
            user = caller_authid(details)
            session.publish(f"{USER_TOPICS}{user}.notices", {"kind": "whoami", "authid": user})
            return {"authid": user}

        @sanitized
        async def start_job(n_steps: int, details: CallDetails | None = None) -> str:
            user = caller_authid(details)
            if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= MAX_STEPS:
                raise ApplicationError(
                    f"{PACKAGE}.error.invalid_argument",
                    f"n_steps must be an integer between 1 and {MAX_STEPS}",
                )
            job_id = str(uuid.uuid4())
            loop = asyncio.get_running_loop()
            # The quota store and Celery's client are synchronous: never call them on the event loop's thread.
            try:
                await loop.run_in_executor(None, quota.acquire, user, job_id)
            except QuotaExceededError as exc:
                raise ApplicationError(f"{PACKAGE}.error.quota_exceeded", exc.reason) from None
            future = loop.run_in_executor(None, lambda: process_job.apply_async(args=[user, n_steps], task_id=job_id))
            try:
                await asyncio.wait_for(future, ENQUEUE_TIMEOUT)
            except BaseException as exc:
                await loop.run_in_executor(None, quota.release, user, job_id)
                if isinstance(exc, TimeoutError):
                    raise ApplicationError(
                        f"{PACKAGE}.error.queue_unavailable", "the task queue did not accept the job in time"
                    ) from None
                raise
            return job_id

        procedures = [
            (authenticate, AUTHENTICATE, SHARED),
            (authorize, AUTHORIZE, SHARED),
            (hello, HELLO, SHARED),
            (whoami, WHOAMI, SHARED_WITH_DETAILS),
            (start_job, START_JOB, SHARED_WITH_DETAILS),
        ]
        for procedure, uri, options in procedures:
            drain.registrations.append(await session.register(drain.counted(procedure), uri, options=options))

        log.info("%s (realm %s, session %s)", READY_LINE, REALM, details.session)
        print(READY_LINE, flush=True)  # the launcher and the tests wait for this line

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
