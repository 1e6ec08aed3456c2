"""Publish WAMP events from synchronous code (Celery tasks) through Crossbar's HTTP bridge.

Standard library only (and settings.py). Requests are signed the way the router checks them
(crossbar/bridge/rest/common.py in https://github.com/crossbario/crossbar): query parameters
``key``, ``timestamp`` (UTC, ISO 8601 with milliseconds and ``Z``), ``seq``, ``nonce`` and
``signature``, where the signature is the URL-safe base64 of
HMAC-SHA256(secret, key | timestamp | seq | nonce | body).
The router also checks the client address (``require_ip``), the body size and the clock
skew (``timestamp_delta_limit``).

The bridge listens only on the router's internal transport (ROUTER_INTERNAL_PORT, 127.0.0.1),
never on the public port, and publishes as the role ``publisher``, which may only publish job
events (``import_tracker.user.<user>.jobs``). Crossbar does not remember
nonces: a signed request re-sent within ``timestamp_delta_limit`` is published again. Events
therefore carry ``job_id`` and a per-job increasing ``seq``, and consumers ignore a ``seq`` they
have already seen and anything after a job's result (jobs.py), so a replay changes nothing.

Environment: ROUTER_HOST, ROUTER_INTERNAL_PORT, PUBLISHER_KEY, PUBLISHER_SECRET (both required).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from .settings import Settings

TIMEOUT = 5.0  # seconds per request
_seq = itertools.count(1)


class BridgeError(RuntimeError):
    """The router refused the request or could not be reached."""


def _timestamp(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def sign(secret: str, key: str, timestamp: str, seq: str, nonce: str, body: bytes) -> str:
    """The signature the router expects for these request parts."""
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)
    for part in (key.encode("utf-8"), timestamp.encode("ascii"), seq.encode("ascii"), nonce.encode("ascii"), body):
        mac.update(part)
    return base64.urlsafe_b64encode(mac.digest()).decode("ascii")


def signed_url(url: str, key: str, secret: str, body: bytes) -> str:
    """`url` with the signing query parameters for `body`."""
    timestamp = _timestamp()
    seq = str(next(_seq))
    nonce = str(secrets.randbelow(2**53))
    signature = sign(secret, key, timestamp, seq, nonce, body)
    query = urlencode({"key": key, "timestamp": timestamp, "seq": seq, "nonce": nonce, "signature": signature})
    return f"{url}?{query}"


def _settings(env: Mapping[str, str]) -> tuple[str, str, str]:
    key, secret = env.get("PUBLISHER_KEY"), env.get("PUBLISHER_SECRET")
    if not key or not secret:
        raise BridgeError("PUBLISHER_KEY and PUBLISHER_SECRET must be set to publish through the HTTP bridge")
    settings = Settings.from_env(env)
    return f"http://{settings.router_host}:{settings.router_internal_port}/publish", key, secret


def build_request(topic: str, *args: Any, **kwargs: Any) -> urllib.request.Request:
    """The signed HTTP request that publishes an event on `topic` (JSON arguments)."""
    url, key, secret = _settings(os.environ)
    body = json.dumps({"topic": topic, "args": list(args), "kwargs": kwargs}, separators=(",", ":")).encode("utf-8")
    return urllib.request.Request(  # noqa: S310 (http://, to the router named in the settings)
        signed_url(url, key, secret, body),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )


def publish(topic: str, *args: Any, **kwargs: Any) -> int:
    """Publish an event on `topic` (JSON arguments); return the publication id."""
    return send(build_request(topic, *args, **kwargs), topic)


def send(request: urllib.request.Request, topic: str = "the topic") -> int:
    """Send a request from build_request(); return the publication id."""
    url = request.full_url.split("?", 1)[0]
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (the same URL)
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise BridgeError(f"router refused the publication on {topic} (HTTP {exc.code}): {detail}") from None
    except (OSError, ValueError) as exc:
        raise BridgeError(f"could not publish on {topic} through {url}: {exc}") from None
    if "id" not in answer:
        raise BridgeError(f"router answered without a publication id: {answer!r}")
    return int(answer["id"])
