"""Per-user job quota: at most JOB_STARTS_PER_MINUTE starts a minute and JOB_MAX_RUNNING running.

The backend acquires a slot before it enqueues a job (and gives it back if enqueuing fails);
the worker releases it when the job ends.
{%- if cookiecutter.broker == "redis" %}
Both counts live in Redis (the result database), so the quota holds across every backend and
worker; one Lua script checks and takes a slot atomically (https://redis.io/docs/latest/develop/interactive/programmability/eval-intro/).
A running slot is a lease: if a worker dies without releasing it, it lapses after
RUNNING_LEASE seconds instead of blocking the user for good.
{%- else %}
This broker gives the processes no shared store, so only the starts per minute are counted,
per backend process: with several backends, or to limit running jobs too, keep the counts in a
shared store (for example Redis, as the redis-broker starter does).
{%- endif %}
"""

from __future__ import annotations

import time
{%- if cookiecutter.broker != "redis" %}
from collections import defaultdict, deque
{%- endif %}
from typing import Protocol

{%- if cookiecutter.broker == "redis" %}

import redis
{%- endif %}

from .settings import Settings

PACKAGE = "{{ cookiecutter.package_name }}"
WINDOW = 60  # seconds: JOB_STARTS_PER_MINUTE counts the starts of the last minute
RUNNING_LEASE = 900  # seconds a running slot is held at most (a job that never reported back)


class QuotaExceededError(Exception):
    """The user already started or runs as many jobs as allowed; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Quota(Protocol):
    def acquire(self, user: str, job_id: str) -> None:
        """Take a slot for `job_id` or raise QuotaExceededError."""

    def release(self, user: str, job_id: str) -> None:
        """Give the running slot of `job_id` back (the job ended or was never enqueued)."""
{%- if cookiecutter.broker == "redis" %}


# KEYS: starts, running. ARGV: now, window, max starts, max running, job id, lease end.
# Returns 0 (taken), 1 (too many starts this minute) or 2 (too many running).
ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[6]) - tonumber(ARGV[1])))
return 0
"""


class RedisQuota:
    """The quota kept in Redis, shared by every backend and worker."""

    def __init__(self, settings: Settings) -> None:
        self.max_starts = settings.job_starts_per_minute
        self.max_running = settings.job_max_running
        url = settings.redis_url(settings.redis_db + 1)
        # The broker's TLS settings too (REDIS_TLS, REDIS_CA_FILE), like Celery's own connections.
        tls = settings.redis_ssl() or {}
        self.client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3, **tls)
        self.script = self.client.register_script(ACQUIRE)

    def _keys(self, user: str) -> list[str]:
        return [f"{PACKAGE}:quota:{user}:starts", f"{PACKAGE}:quota:{user}:running"]

    def acquire(self, user: str, job_id: str) -> None:
        now = time.time()
        args: list[str | float] = [now, WINDOW, self.max_starts, self.max_running, job_id, now + RUNNING_LEASE]
        answer = int(self.script(keys=self._keys(user), args=args))
        if answer == 1:
            raise QuotaExceededError(f"at most {self.max_starts} job starts per minute")
        if answer == 2:
            raise QuotaExceededError(f"at most {self.max_running} jobs running at a time")

    def release(self, user: str, job_id: str) -> None:
        self.client.zrem(self._keys(user)[1], job_id)


def make_quota(settings: Settings) -> Quota:
    return RedisQuota(settings)
{%- else %}


class MemoryQuota:
    """Starts per minute, counted in this process only (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.max_starts = settings.job_starts_per_minute
        self.starts: defaultdict[str, deque[float]] = defaultdict(deque)

    def acquire(self, user: str, job_id: str) -> None:
        now = time.monotonic()
        starts = self.starts[user]
        while starts and starts[0] <= now - WINDOW:
            starts.popleft()
        if len(starts) >= self.max_starts:
            raise QuotaExceededError(f"at most {self.max_starts} job starts per minute")
        starts.append(now)

    def release(self, user: str, job_id: str) -> None:
        """Nothing to give back: running jobs are not counted here."""


def make_quota(settings: Settings) -> Quota:
    return MemoryQuota(settings)
{%- endif %}
