"""Fixtures that start the real infrastructure for the tests, on free 127.0.0.1 ports.

{% if cookiecutter.use_celery and cookiecutter.broker == "redis" -%}
Session scope: one redis-server (random password, no persistence) and one Celery worker,
stopped by pid when the session ends. Their environment is passed explicitly, never taken
from .env or changed in os.environ. The processes are mirakuru executors (celery_fixtures.py),
whose factories also start the extra workers and Redis servers of the fault and scale tests.
{% elif cookiecutter.use_celery and cookiecutter.broker == "rabbitmq" -%}
Session scope: one Celery worker on the RabbitMQ broker that RABBITMQ_* (environment or
.env) name, e.g. the one `docker compose up -d rabbitmq` starts; stopped by pid at the end.
{% elif cookiecutter.use_celery -%}
Session scope: one Celery worker on Amazon SQS (AWS_REGION and the usual AWS credentials,
from the environment or .env); stopped by pid at the end. The queues are named with a
random prefix per session.
{% endif -%}
{% if cookiecutter.use_crossbar -%}
The Crossbar router, the backend and Chromium come from router_fixtures.py.
{% endif -%}
A missing program or an unreachable broker fails the tests at once with a message saying
what to install or start; nothing is skipped and nothing waits without a deadline.
"""

from __future__ import annotations
{% if cookiecutter.use_celery %}
import gc
{%- endif %}
import os
{%- if cookiecutter.use_celery and (cookiecutter.broker == "sqs" or (cookiecutter.broker == "redis" and cookiecutter.scheduling != "none")) %}
import secrets
{%- endif %}
{%- if cookiecutter.use_celery and cookiecutter.broker == "rabbitmq" %}
import socket
{%- endif %}
{%- if cookiecutter.use_celery %}
from collections.abc import Callable, Iterator
{%- endif %}
from pathlib import Path

import pytest
{%- if cookiecutter.use_celery and cookiecutter.broker == "redis" %}
import redis
{%- endif %}
from dotenv import dotenv_values
{%- if cookiecutter.use_celery %}

from {{ cookiecutter.package_name }}.celery_app import app, config
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}
{%- if cookiecutter.use_celery %}

from celery_fixtures import *  # noqa: F403 (the factories: start_redis, start_worker, start_beat)
from celery_fixtures import {% if cookiecutter.broker == "redis" %}RedisServer, {% endif %}WorkerProcess{% if cookiecutter.broker != "redis" %}, fail{% endif %}
{%- endif %}
{%- if cookiecutter.use_crossbar %}
{%- if not cookiecutter.use_celery %}
{# one blank line between the package's imports and the tests' own #}
{%- endif %}
from router_fixtures import *  # noqa: F403 (the router, backend and browser fixtures)
{%- endif %}

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
{%- if cookiecutter.use_celery and cookiecutter.broker == "redis" %}
    # The tests run their own redis-server: never pick up the developer's (nor its TLS or user).
    for name in ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB", "REDIS_USERNAME", "REDIS_TLS"):
        env.pop(name, None)
    env.pop("REDIS_CA_FILE", None)
{%- endif %}
{%- if cookiecutter.use_celery and cookiecutter.durable_work and cookiecutter.broker in ("redis", "sqs") %}
    env.pop("VISIBILITY_TIMEOUT", None)  # the default, unless a test sets its own
{%- endif %}
{%- if cookiecutter.use_crossbar %}
    # The tests start their own router (router_fixtures.py): never where the developer's listens.
    for name in ("ROUTER_HOST", "ROUTER_PORT", "ROUTER_ORIGINS", "PUBLISHER_ALLOW_FROM"):
        env.pop(name, None)
{%- endif %}
    env.pop("DEVSTACK_DIR", None)
    return env
{%- if cookiecutter.use_celery %}

{%- if cookiecutter.broker == "redis" %}


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
{%- elif cookiecutter.broker == "rabbitmq" %}


@pytest.fixture(scope="session")
def broker_env(base_env: dict[str, str]) -> dict[str, str]:
    """The RabbitMQ broker named by RABBITMQ_*; fails at once when it does not answer."""
    settings = Settings.from_env(base_env)
    host, port = settings.rabbitmq_host, settings.rabbitmq_port
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        fail(
            f"RabbitMQ at {host}:{port} does not answer ({exc}): start one (`docker compose up -d rabbitmq`, "
            "or apt-get install rabbitmq-server "
            "with a user and vhost of your own) and set RABBITMQ_HOST, RABBITMQ_PORT, RABBITMQ_USER, "
            "RABBITMQ_PASSWORD and RABBITMQ_VHOST (environment or .env)"
        )
    return {name: value for name, value in base_env.items() if name.startswith("RABBITMQ_")}

{%- else %}


@pytest.fixture(scope="session")
def broker_env(base_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Amazon SQS in AWS_REGION, with queues under a random prefix, deleted at the end."""
    region = base_env.get("AWS_REGION")
    if not region:
        fail(
            "AWS_REGION is not set: the tests need Amazon SQS (set AWS_REGION and AWS credentials, "
            "e.g. AWS_PROFILE, in the environment or .env)"
        )
    prefix = f"{{ cookiecutter.project_slug }}-test-{secrets.token_hex(4)}-"
    yield {"AWS_REGION": region, "SQS_QUEUE_PREFIX": prefix}
    import boto3  # installed with celery[sqs]

    sqs = boto3.client("sqs", region_name=region)
    for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)
{%- endif %}


@pytest.fixture(scope="session")
def celery_env(
    base_env: dict[str, str], broker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment of the worker (and of beat): the test broker and scratch directories."""
    env = {**base_env, **broker_env}
{%- if cookiecutter.durable_work %}
    env["REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))
{%- endif %}
{%- if cookiecutter.scheduling != "none" and cookiecutter.broker == "redis" %}
    env["HEARTBEAT_KEY"] = f"test:heartbeat:{secrets.token_hex(4)}"
{%- endif %}
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
{%- endif %}
