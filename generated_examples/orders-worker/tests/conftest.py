"""Fixtures that start the real infrastructure for the tests, on free 127.0.0.1 ports.

Session scope: one redis-server (random password, no persistence) and one Celery worker,
stopped by pid when the session ends. Their environment is passed explicitly, never taken
from .env or changed in os.environ.
A missing program or an unreachable broker fails the tests at once with a message saying
what to install or start; nothing is skipped and nothing waits without a deadline.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import redis

from orders_worker import devstack
from orders_worker.celery_app import app, config
from orders_worker.settings import Settings

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
    env = {**devstack.load_env_file(PROJECT_DIR / ".env"), **os.environ}
    # The tests run their own redis-server: never pick up the developer's.
    for name in ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB"):
        env.pop(name, None)
    env.pop("DEVSTACK_DIR", None)
    return env


def _fail_on_start_error(reason: object) -> NoReturn:
    # `from None`: the message says it all; no chained traceback of the StartError.
    raise pytest.fail.Exception(f"could not start the test infrastructure: {reason}", pytrace=False) from None


@pytest.fixture(scope="session")
def redis_server(base_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, str]]:
    """A redis-server with a random password, including characters that must be URL-encoded.

    Yields the REDIS_* variables that point at it.
    """
    password = secrets.token_urlsafe(18) + "/@:#%[]"
    try:
        proc, port = devstack.start_redis(log_dir, password, env=base_env)
    except devstack.StartError as exc:
        _fail_on_start_error(exc)
    try:
        yield {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port), "REDIS_PASSWORD": password, "REDIS_DB": "0"}
    finally:
        devstack.stop(proc)


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
def worker(celery_env: dict[str, str], log_dir: Path) -> Iterator[devstack.Proc]:
    """A real Celery worker on the test broker; this process's app sends to the same broker."""
    # Test modules imported the app with the default settings: point it at the test broker
    # before anything connects (the connection pool and the result backend are created lazily).
    app.conf.update(config(Settings.from_env(celery_env)))
    # Also the test-only task in tests/durable_probe.py, which a test kills mid-task.
    paths = [str(PROJECT_DIR / "tests"), celery_env.get("PYTHONPATH", "")]
    env = {**celery_env, "PYTHONPATH": os.pathsep.join(path for path in paths if path)}
    extra_args = ["--include", "durable_probe"]
    try:
        proc = devstack.start_worker(env, log_dir, extra_args)
    except devstack.StartError as exc:
        _fail_on_start_error(exc)
    try:
        yield proc
    finally:
        devstack.stop(proc)
        app.close()
