"""Settings from the environment (every variable is listed in .env.example).

Read once per process with `Settings.from_env()`; the tests pass their own mapping instead of
changing os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PACKAGE = "live_board"
# The prefix of every secret's placeholder in .env.example: each process refuses to start on one.
PLACEHOLDER = "replace-with-"


def _int(env: Mapping[str, str], name: str, default: int, lowest: int = 0, highest: int = 65535) -> int:
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if not lowest <= value <= highest:
        raise ValueError(f"{name}={value} is out of range ({lowest}..{highest})")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the processes read from the environment."""

    router_host: str = "127.0.0.1"
    router_port: int = 8080
    # Identity and the HTTP bridge (README, "Users and sign-in" and "The HTTP bridge").
    router_internal_port: int = 8081

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (default: os.environ); unset or empty variables take the defaults."""
        env = os.environ if env is None else env
        return cls(
            router_host=env.get("ROUTER_HOST") or cls.router_host,
            router_port=_int(env, "ROUTER_PORT", cls.router_port, 1),
            router_internal_port=_int(env, "ROUTER_INTERNAL_PORT", cls.router_internal_port, 1),
        )

    def router_url(self) -> str:
        return f"ws://{self.router_host}:{self.router_port}/ws"
