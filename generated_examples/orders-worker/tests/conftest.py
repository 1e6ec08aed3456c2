"""Fixtures that start the real infrastructure for the tests, on free 127.0.0.1 ports.

Session scope: one redis-server (random password, no persistence) and one Celery worker,
stopped by pid when the session ends. Their environment is passed explicitly, never taken
from .env or changed in os.environ. The processes are mirakuru executors (celery_fixtures.py),
whose factories also start the extra workers and Redis servers of the fault and scale tests.
A missing program or an unreachable broker fails the tests at once with a message saying
what to install or start; nothing is skipped and nothing waits without a deadline.
"""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from dotenv import dotenv_values

from orders_worker.celery_app import app, config
from orders_worker.settings import Settings

from celery_fixtures import *  # noqa: F403 (the factories: start_redis, start_worker, start_beat)
from celery_fixtures import RedisServer, WorkerProcess

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_dir() -> Path:
    """The project's root directory."""
    return PROJECT_DIR


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the logs of every process the tests start (shown on failures)."""
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def base_env() -> dict[str, str]:
    """The environment the started processes get: this one, without the project's own settings."""
    dotenv = {name: value for name, value in dotenv_values(PROJECT_DIR / ".env").items() if value is not None}
    env = {**dotenv, **os.environ}
    # The tests run their own redis-server: never pick up the developer's (nor its TLS or user).
    for name in ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB", "REDIS_USERNAME", "REDIS_TLS"):
        env.pop(name, None)
    env.pop("REDIS_CA_FILE", None)
    env.pop("VISIBILITY_TIMEOUT", None)  # the default, unless a test sets its own
    env.pop("DEVSTACK_DIR", None)
    return env


@pytest.fixture(scope="session")
def redis_server(start_redis: Callable[..., RedisServer]) -> dict[str, str]:
    """The session's redis-server (a random password, with characters that must be URL-encoded).

    Returns the REDIS_* variables that point at it.
    """
    return start_redis().env


@pytest.fixture(scope="session")
def broker_env(redis_server: dict[str, str]) -> dict[str, str]:
    """The broker variables of the test broker."""
    return redis_server


@pytest.fixture(scope="session")
def redis_client(celery_env: dict[str, str]) -> Iterator[redis.Redis]:
    """A client of the test Redis, on the database the tasks write to."""
    settings = Settings.from_env(celery_env)
    client = redis.Redis.from_url(settings.redis_url(settings.redis_db + 1), socket_timeout=5)
    yield client
    client.close()


@pytest.fixture(scope="session")
def celery_env(
    base_env: dict[str, str], broker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment of the worker (and of beat): the test broker and scratch directories."""
    env = {**base_env, **broker_env}
    env["REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))
    env["HEARTBEAT_KEY"] = f"test:heartbeat:{secrets.token_hex(4)}"
    return env


@pytest.fixture(scope="session")
def worker(celery_env: dict[str, str], start_worker: Callable[..., WorkerProcess]) -> Iterator[WorkerProcess]:
    """A real Celery worker on the test broker; this process's app sends to the same broker."""
    # Test modules imported the app with the default settings: point it at the test broker
    # before anything connects (the connection pool and the result backend are created lazily).
    app.conf.update(config(Settings.from_env(celery_env)))
    yield start_worker(celery_env)
    # A task result, when garbage-collected, unsubscribes from the result backend: collect the
    # tests' results while Redis still runs, not at exit (an "Exception ignored" warning each).
    gc.collect()
    app.close()
