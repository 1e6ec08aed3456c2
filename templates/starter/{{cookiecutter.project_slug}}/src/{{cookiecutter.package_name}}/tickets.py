"""Sign-in tickets: short-lived tokens your web application issues to its logged-in users.

The browser presents the ticket to the router with WAMP ticket authentication; the router asks
the backend's authenticator (backend.py), which calls verify() and gives the session the
user's id as its authid and the role ``user``. Nobody else needs the secret.

A ticket is ``v1.<user>.<expires>.<signature>``: ``user`` matches ``[a-z0-9_-]{1,64}`` (never a
dot, so it is exactly one URI component of ``{{ cookiecutter.package_name }}.user.<user>.``),
``expires`` is a Unix time in seconds and ``signature`` the URL-safe base64 (no padding) of
HMAC-SHA256(TICKET_SECRET, "v1.<user>.<expires>").

Issue one from a login view (see the README, "Users and sign-in")::

    ticket = tickets.issue(user_id, os.environ["TICKET_SECRET"], ttl=3600)

or, to try the page locally, ``python -m {{ cookiecutter.package_name }}.tickets alice`` prints a sign-in
URL (the ticket in the URL fragment, which browsers never send to the server).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import re
import sys
import time
from collections.abc import Mapping

from .settings import PLACEHOLDER, Settings

VERSION = "v1"
USER_ID = re.compile(r"[a-z0-9_-]{1,64}")
DEFAULT_TTL = 3600  # seconds
MAX_TTL = 7 * 24 * 3600  # a ticket is a sign-in, not a long-lived credential
MIN_SECRET_LENGTH = 32


class TicketError(ValueError):
    """The ticket is malformed, wrongly signed or expired (the message never echoes it)."""


def check_secret(secret: str) -> bytes:
    """The key for HMAC; TicketError for a secret too short or still the .env.example placeholder."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise TicketError(f"TICKET_SECRET must be at least {MIN_SECRET_LENGTH} characters")
    if secret.startswith(PLACEHOLDER):
        raise TicketError("TICKET_SECRET is still the placeholder from .env.example")
    return secret.encode("utf-8")


def _signature(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue(user: str, secret: str, ttl: int = DEFAULT_TTL, now: float | None = None) -> str:
    """A ticket for `user`, valid for `ttl` seconds."""
    if not USER_ID.fullmatch(user):
        raise TicketError("the user id must match [a-z0-9_-]{1,64}")
    if not 0 < ttl <= MAX_TTL:
        raise TicketError(f"ttl must be between 1 and {MAX_TTL} seconds")
    expires = int(now if now is not None else time.time()) + ttl
    message = f"{VERSION}.{user}.{expires}"
    return f"{message}.{_signature(check_secret(secret), message)}"


def verify(ticket: object, secret: str, now: float | None = None) -> str:
    """The user id of a valid, unexpired `ticket`; TicketError otherwise."""
    key = check_secret(secret)
    if not isinstance(ticket, str) or len(ticket) > 200:
        raise TicketError("malformed ticket")
    parts = ticket.split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        raise TicketError("malformed ticket")
    _, user, expires, signature = parts
    if not USER_ID.fullmatch(user) or not expires.isdigit() or len(expires) > 12:
        raise TicketError("malformed ticket")
    if not hmac.compare_digest(signature, _signature(key, f"{VERSION}.{user}.{expires}")):
        raise TicketError("bad signature")
    if int(expires) <= (now if now is not None else time.time()):
        raise TicketError("expired ticket")
    return user


def sign_in_url(settings: Settings, ticket: str) -> str:
    """The local page with the ticket in the fragment (never sent to the server, so never logged)."""
    return f"http://{settings.router_host}:{settings.router_port}/#ticket={ticket}"


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.package_name }}.tickets",
        description="Print a sign-in URL of the local page for USER (TICKET_SECRET from the environment).",
    )
    parser.add_argument("user", help="the user id, [a-z0-9_-]{1,64}")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL, help="seconds the ticket is valid")
    args = parser.parse_args(argv)
    secret = env.get("TICKET_SECRET", "")
    if not secret:
        print("TICKET_SECRET is not set (scripts/run writes it into .env)", file=sys.stderr)
        return 2
    try:
        ticket = issue(args.user, secret, args.ttl)
    except TicketError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(sign_in_url(Settings.from_env(env), ticket))
    return 0


if __name__ == "__main__":
    sys.exit(main())
