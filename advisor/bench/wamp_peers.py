"""The WAMP peers `advisor bench` starts, and the session every WAMP peer of the bench joins with.

    python -m advisor.bench.wamp_peers callee --procedure echo|slow [--slow-seconds S]
    python -m advisor.bench.wamp_peers subscriber --sessions N --fanout 1,2,4

Where and as whom they join comes from the environment, never the command line:
ADVISOR_BENCH_URL (ws:// or wss://), ADVISOR_BENCH_REALM, ADVISOR_BENCH_AUTHID and
ADVISOR_BENCH_TICKET (ticket authentication; anonymous when no ticket is set).

URIs start with --prefix (default `bench`; the bench passes `bench.<run id>` so that two
runs on one router never collide). The callee registers either PREFIX.echo (returns its
argument) or PREFIX.slow (logs
"slow started N", sleeps, returns): one procedure each, so that a slow callee can come and go
while the echo callee stays. The subscriber joins N sessions, each on its own WebSocket
connection in this one process; session i subscribes to PREFIX.event.<n> for every n in
--fanout with i < n, so an event on PREFIX.event.<n> goes to exactly n sessions. Each logs
"event SEQ SESSION TIME" (time.time() when its handler ran) as it receives one. Each peer
prints a ready line once everything is registered or subscribed, and exits when its
connection to the router is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.types import ComponentConfig

CALLEE_READY = "callee ready"
SUBSCRIBER_READY = "subscriber ready"
SLOW_STARTED = "slow started"
EVENT = "event"
JOIN_TIMEOUT = 15.0  # seconds for a peer to connect and join


@dataclass(frozen=True)
class Peer:
    """Where a WAMP session joins and as whom: a ticket means ticket authentication, None anonymous."""

    url: str
    realm: str
    authid: str | None = None
    ticket: str | None = None

    def env(self) -> dict[str, str]:
        """The variables a peer process reads (the ticket travels here, never on a command line)."""
        return {
            "ADVISOR_BENCH_URL": self.url,
            "ADVISOR_BENCH_REALM": self.realm,
            "ADVISOR_BENCH_AUTHID": self.authid or "",
            "ADVISOR_BENCH_TICKET": self.ticket or "",
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str], url: str) -> Peer:
        return cls(
            url=url,
            realm=env.get("ADVISOR_BENCH_REALM") or "bench",
            authid=env.get("ADVISOR_BENCH_AUTHID") or None,
            ticket=env.get("ADVISOR_BENCH_TICKET") or None,
        )


class Refused(Exception):
    """The router did not let the session join (its reason, e.g. wamp.error.not_authorized)."""


class BenchSession(ApplicationSession):
    """A session that joins as its Peer says and resolves `joined` (or fails it) once it knows."""

    joined: asyncio.Future[BenchSession]
    lost: asyncio.Future[None]

    def onConnect(self) -> None:
        peer: Peer = self.config.extra
        if peer.ticket:
            self.join(peer.realm, ["ticket"], authid=peer.authid)
        else:
            self.join(peer.realm, ["anonymous"])

    def onChallenge(self, challenge: Any) -> str:
        peer: Peer = self.config.extra
        return peer.ticket or ""

    def onJoin(self, details: Any) -> None:
        if not self.joined.done():
            self.joined.set_result(self)

    def onLeave(self, details: Any) -> None:
        if not self.joined.done():
            self.joined.set_exception(Refused(f"{details.reason}: {details.message}"))
        self.disconnect()

    def onDisconnect(self) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("the router closed the connection before the session joined"))
        if not self.lost.done():
            self.lost.set_result(None)


async def join(peer: Peer, timeout: float) -> tuple[BenchSession, Any]:
    """A joined session and its transport (close the transport when done); Refused or OSError if not."""
    loop = asyncio.get_running_loop()
    session = BenchSession(ComponentConfig(peer.realm, extra=peer))  # type: ignore[no-untyped-call]  # autobahn has no annotations
    session.joined = loop.create_future()
    session.lost = loop.create_future()
    factory = WampWebSocketClientFactory(lambda: session, url=peer.url)  # type: ignore[no-untyped-call]  # untyped
    secure = ssl.create_default_context() if factory.isSecure else None
    connect = loop.create_connection(factory, factory.host, factory.port, ssl=secure)
    transport, _ = await asyncio.wait_for(connect, timeout)
    try:
        await asyncio.wait_for(session.joined, timeout)
    except BaseException:
        transport.close()
        raise
    return session, transport


def say(line: str) -> None:
    print(line, flush=True)


async def callee(peer: Peer, prefix: str, procedure: str, slow_seconds: float) -> None:
    session, _transport = await join(peer, JOIN_TIMEOUT)
    started = 0

    def echo(value: Any) -> Any:
        return value

    async def slow(value: Any = None) -> Any:
        nonlocal started
        started += 1
        say(f"{SLOW_STARTED} {started}")
        await asyncio.sleep(slow_seconds)
        return value

    await session.register(echo if procedure == "echo" else slow, f"{prefix}.{procedure}")
    say(CALLEE_READY)
    await session.lost


def receiver(session_index: int) -> Callable[[Any], None]:
    def on_event(seq: Any) -> None:
        say(f"{EVENT} {seq} {session_index} {time.time():.6f}")

    return on_event


async def subscriber(peer: Peer, prefix: str, sessions: int, fanout: list[int]) -> None:
    joined = [await join(peer, JOIN_TIMEOUT) for _ in range(sessions)]
    for index, (session, _) in enumerate(joined):
        for n in fanout:
            if index < n:
                await session.subscribe(receiver(index), f"{prefix}.event.{n}")
    say(f"{SUBSCRIBER_READY} {sessions}")
    await asyncio.wait([session.lost for session, _ in joined], return_when=asyncio.FIRST_COMPLETED)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m advisor.bench.wamp_peers")
    parser.add_argument("role", choices=["callee", "subscriber"])
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--procedure", choices=["echo", "slow"], default="echo")
    parser.add_argument("--slow-seconds", type=float, default=60.0)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--fanout", default="1")
    args = parser.parse_args(argv)
    peer = Peer.from_env(os.environ, os.environ["ADVISOR_BENCH_URL"])
    if args.role == "callee":
        asyncio.run(callee(peer, args.prefix, args.procedure, args.slow_seconds))
    else:
        asyncio.run(subscriber(peer, args.prefix, args.sessions, [int(n) for n in args.fanout.split(",")]))
    return 1  # only reached when the router went away


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
