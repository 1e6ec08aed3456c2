"""A small asyncio WAMP client for the tests: anonymous, WAMP-CRA (the backend) or a user's ticket."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig

from live_board import tickets

PACKAGE = "live_board"
REALM = PACKAGE
WAMP_TIMEOUT = 10.0  # seconds for any single WAMP exchange in a test


def new_user(name: str) -> str:
    """A user id of its own for each test (the quota and the topics are per user)."""
    return f"{name}-{secrets.token_hex(3)}"


def ticket_for(env: Mapping[str, str], user: str, ttl: int = 600) -> str:
    """A sign-in ticket for `user`, issued the way a web app does (tickets.issue, TICKET_SECRET of `env`)."""
    return tickets.issue(user, env["TICKET_SECRET"], ttl)


class ClientSession(ApplicationSession):
    """A test client: joins anonymously, as `authid` with WAMP-CRA, or with a ticket; see wamp_session()."""

    join_details: Any = None  # the router's welcome (authid, authrole, session id) once joined

    def onConnect(self) -> None:  # noqa: N802 (Autobahn's API)
        extra = self.config.extra
        if extra["ticket"] is not None:
            self.join(self.config.realm, ["ticket"], authid=extra["authid"])
        elif extra["authid"]:
            self.join(self.config.realm, ["wampcra"], authid=extra["authid"])
        else:
            self.join(self.config.realm, ["anonymous"])

    def onChallenge(self, challenge: Any) -> str:  # noqa: N802
        extra = self.config.extra
        if challenge.method == "ticket":
            ticket: str = extra["ticket"]
            return ticket
        signature: str = auth.compute_wcs(extra["secret"], challenge.extra["challenge"])
        return signature

    def onJoin(self, details: Any) -> None:  # noqa: N802
        self.join_details = details
        if not self.config.extra["joined"].done():
            self.config.extra["joined"].set_result(self)

    def onLeave(self, details: Any) -> None:  # noqa: N802
        joined = self.config.extra["joined"]
        if not joined.done():
            joined.set_exception(PermissionError(f"{details.reason}: {details.message}"))
        self.disconnect()


@asynccontextmanager
async def wamp_session(
    ws_url: str, authid: str | None = None, secret: str | None = None, ticket: str | None = None
) -> AsyncIterator[ClientSession]:
    """A joined session; PermissionError when the router refuses it.

    Anonymous by default; WAMP-CRA with `authid` and `secret`; ticket authentication with
    `ticket` (the authid then comes from the ticket, whatever `authid` asks for).
    """
    loop = asyncio.get_running_loop()
    joined: asyncio.Future[ClientSession] = loop.create_future()
    extra = {"authid": authid, "secret": secret, "ticket": ticket, "joined": joined}
    config = ComponentConfig(REALM, extra=extra)
    factory = WampWebSocketClientFactory(lambda: ClientSession(config), url=ws_url, serializers=[JsonSerializer()])
    host, port = factory.host, factory.port
    transport, _ = await asyncio.wait_for(loop.create_connection(factory, host, port), WAMP_TIMEOUT)
    try:
        session = await asyncio.wait_for(joined, WAMP_TIMEOUT)
        yield session
        if session.is_attached():
            await asyncio.wait_for(session.leave(), WAMP_TIMEOUT)
    finally:
        transport.close()


def other_local_addresses() -> list[str]:
    """Addresses of this machine, other than 127.0.0.1, that a socket can be bound to.

    127.0.0.2 (Linux routes all of 127.0.0.0/8 to the loopback interface), ::1 and the
    addresses the host name resolves to, as far as this machine has them.
    """
    candidates = ["127.0.0.2", "::1"]
    with contextlib.suppress(OSError):  # without a resolvable host name, the loopback ones remain
        candidates += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)]
    usable = []
    for address in dict.fromkeys(candidates):
        if address == "127.0.0.1":
            continue
        try:
            with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
                probe.bind((address, 0))
        except OSError:
            continue
        usable.append(address)
    return usable


def resolve_once(future: asyncio.Future[Any]) -> Callable[[Any], None]:
    """A subscription handler that resolves `future` with the first event and ignores the rest."""

    def handler(event: Any) -> None:
        if not future.done():
            future.set_result(event)

    return handler


def run_async(coro: Any, timeout: float = 30.0) -> Any:
    """Run `coro` to completion with an overall deadline, in a fresh event loop on its own thread.

    (A thread, because playwright's sync API keeps an event loop running on the main thread.)
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout)).result()


def handshake_status(port: int, origin: str) -> str:
    """The status line the router answers a WebSocket handshake from `origin` with."""
    request = (
        "GET /ws HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: wamp.2.json\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=WAMP_TIMEOUT) as conn:
        conn.sendall(request.encode("ascii"))
        return conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]
