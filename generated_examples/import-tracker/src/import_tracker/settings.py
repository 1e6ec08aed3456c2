"""Settings from the environment (every variable is listed in .env.example).

Read once per process with `Settings.from_env()`; the tests pass their own mapping instead of
changing os.environ.

The broker URL is built from parts with the password URL-encoded (quote(pw, safe="")): an
unencoded '#', '/', '@', ':' or '[' breaks the URL or fails silently
(https://github.com/celery/celery/issues/5876, https://github.com/celery/celery/issues/1553).
Log such a URL only through kombu.utils.url.maybe_sanitize_url, which masks the password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

PACKAGE = "import_tracker"
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


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "false").strip().lower()
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"{name}={raw!r} is not true or false")
    return raw in ("true", "1", "yes")


def _host(host: str) -> str:
    """A host for a URL: IPv6 addresses go in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class Settings:
    """Everything the processes read from the environment."""

    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_password: str = ""
    redis_db: int = 0
    # A broker on another host: a Redis 6 ACL user (default: the "default" user) and TLS.
    redis_username: str = ""
    redis_tls: bool = False
    redis_ca_file: str = ""
    # Longer than the longest task (celery_app.py); lower only to see redelivery sooner.
    visibility_timeout: int = 2400
    beat_interval_seconds: int = 60
    heartbeat_key: str = f"{PACKAGE}:heartbeat"
    # Task events for a monitor (README: Monitoring tasks): off, since they cost broker traffic per task.
    task_events: bool = False
    reports_dir: str = ""
    router_host: str = "127.0.0.1"
    router_port: int = 8080
    # Identity and the HTTP bridge (README, "Users and sign-in" and "The HTTP bridge").
    router_internal_port: int = 8081
    job_starts_per_minute: int = 10
    job_max_running: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (default: os.environ); unset or empty variables take the defaults."""
        env = os.environ if env is None else env
        return cls(
            redis_host=env.get("REDIS_HOST") or cls.redis_host,
            redis_port=_int(env, "REDIS_PORT", cls.redis_port, 1),
            redis_password=env.get("REDIS_PASSWORD", ""),
            # The result backend uses the next database, so at most 14 (Redis has 0..15).
            redis_db=_int(env, "REDIS_DB", cls.redis_db, 0, 14),
            redis_username=env.get("REDIS_USERNAME", ""),
            redis_tls=_flag(env, "REDIS_TLS"),
            redis_ca_file=env.get("REDIS_CA_FILE", ""),
            visibility_timeout=_int(env, "VISIBILITY_TIMEOUT", cls.visibility_timeout, 1, 7 * 86400),
            beat_interval_seconds=_int(env, "BEAT_INTERVAL_SECONDS", cls.beat_interval_seconds, 1, 86400),
            heartbeat_key=env.get("HEARTBEAT_KEY") or cls.heartbeat_key,
            task_events=_flag(env, "TASK_EVENTS"),
            # Not a fixed /tmp path, which another local user could create first.
            reports_dir=env.get("REPORTS_DIR") or os.path.join(os.getcwd(), ".devstack", "reports"),
            router_host=env.get("ROUTER_HOST") or cls.router_host,
            router_port=_int(env, "ROUTER_PORT", cls.router_port, 1),
            router_internal_port=_int(env, "ROUTER_INTERNAL_PORT", cls.router_internal_port, 1),
            job_starts_per_minute=_int(env, "JOB_STARTS_PER_MINUTE", cls.job_starts_per_minute, 1, 10000),
            job_max_running=_int(env, "JOB_MAX_RUNNING", cls.job_max_running, 1, 10000),
        )

    def redis_url(self, db: int) -> str:
        """redis[s]://[<user>]:<password>@host:port/db, user and password URL-encoded."""
        scheme = "rediss" if self.redis_tls else "redis"
        user = quote(self.redis_username, safe="")
        auth = f"{user}:{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"{scheme}://{auth}{_host(self.redis_host)}:{self.redis_port}/{db}"

    def redis_ssl(self) -> dict[str, str] | None:
        """With REDIS_TLS: verify the server's certificate (against REDIS_CA_FILE if set), else None.

        The keys are those of redis-py's connection (and so of Celery's broker_use_ssl and
        redis_backend_use_ssl): https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-use-ssl
        """
        if not self.redis_tls:
            return None
        options = {"ssl_cert_reqs": "required"}
        if self.redis_ca_file:
            options["ssl_ca_certs"] = self.redis_ca_file
        return options

    def broker_url(self) -> str:
        return self.redis_url(self.redis_db)

    def result_backend(self) -> str | None:
        """Results live on the same server, in the next database."""
        return self.redis_url(self.redis_db + 1)

    def router_url(self) -> str:
        return f"ws://{self.router_host}:{self.router_port}/ws"
