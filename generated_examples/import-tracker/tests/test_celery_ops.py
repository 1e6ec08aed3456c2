"""Operating Celery: placeholder secrets refused at start, task events for a monitor, a remote broker."""

from __future__ import annotations

import gc
import secrets
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from mirakuru import SimpleExecutor

from import_tracker.celery_app import app, config, make_app
from import_tracker.settings import PACKAGE, PLACEHOLDER, Settings
from import_tracker.tasks import add

from celery_fixtures import (
    LogFile,
    OwnEnvironment,
    RedisServer,
    WorkerProcess,
    celery_argv,
    exit_status,
    python_env,
    wait_until,
)


class CeleryCommand(OwnEnvironment, LogFile, SimpleExecutor):
    """A celery command that is expected to end by itself (its output in `log`)."""

    def __init__(self, args: list[str], env: dict[str, str], directory: Path) -> None:
        super().__init__(
            celery_argv(*args), cwd=str(directory), timeout=60, envvars=python_env(env),
            **self.open_log(directory / f"{args[0]}.log"),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("program", "password"),
    [
        ("worker", f"{PLACEHOLDER}a-long-random-secret"),
        ("worker", ""),
        ("beat", f"{PLACEHOLDER}a-long-random-secret"),
    ],
)
def test_refuses_to_start_with_a_placeholder_secret(
    program: str, password: str, celery_env: dict[str, str], tmp_path: Path
) -> None:
    """A worker or beat whose REDIS_PASSWORD is empty or .env.example's placeholder exits at once, saying why.

    Without the check it would start and keep retrying the broker (or use a Redis anyone can
    guess the password of): this test would then time out.
    """
    args = [program, "-l", "info"] + (["--schedule", str(tmp_path / "schedule")] if program == "beat" else [])
    command = CeleryCommand(args, {**celery_env, "REDIS_PASSWORD": password}, tmp_path)
    command.start()
    try:
        wait_until(lambda: exit_status(command) is not None, 60, f"celery {program} to refuse to start")
        output = command.log.read_text(encoding="utf-8")
        assert exit_status(command) != 0, output
        assert f"celery {program}: REDIS_PASSWORD is" in output, output
        assert "refusing to start" in output
    finally:
        command.kill()
        command.close_log()


def test_a_monitor_sees_the_events_of_a_task(worker: WorkerProcess) -> None:
    """A monitor turns task events on in the running worker (they are off by default) and sees a task's whole life."""
    seen: dict[str, set[str]] = {}
    listening = threading.Event()

    def on_event(event: dict[str, Any]) -> None:
        if event.get("hostname") == worker.hostname:
            listening.set()  # the worker's heartbeats arrive: the receiver is subscribed
        if "uuid" in event:
            seen.setdefault(event["uuid"], set()).add(event["type"])

    with app.connection_for_read() as connection:
        receiver = app.events.Receiver(connection, handlers={"*": on_event})
        thread = threading.Thread(target=receiver.capture, kwargs={"limit": None, "wakeup": True}, daemon=True)
        thread.start()
        try:
            # What `celery control enable_events` (README) and Flower do.
            app.control.enable_events(destination=[worker.hostname])
            wait_until(listening.is_set, 30, "an event from the worker", worker)
            result = add.delay(4, 4)
            assert result.get(timeout=30) == 8
            expected = {"task-received", "task-started", "task-succeeded"}
            wait_until(lambda: expected <= seen.get(result.id, set()), 30, "the task's events", worker)
        finally:
            app.control.disable_events(destination=[worker.hostname])
            receiver.should_stop = True
            thread.join(timeout=15)
    assert not thread.is_alive(), "the event receiver did not stop"


def test_tls_settings_make_celery_verify_the_broker() -> None:
    """REDIS_TLS and an ACL user: rediss:// URLs with the user, and certificate checks for broker and results."""
    env = {
        "REDIS_HOST": "redis.internal.example",
        "REDIS_USERNAME": "app user",
        "REDIS_PASSWORD": "p@ss:word",
        "REDIS_TLS": "true",
        "REDIS_CA_FILE": "/etc/ssl/certs/internal-ca.pem",
    }
    conf = config(Settings.from_env(env))
    assert conf["broker_url"] == "rediss://app%20user:p%40ss%3Aword@redis.internal.example:6379/0"
    assert conf["result_backend"] == "rediss://app%20user:p%40ss%3Aword@redis.internal.example:6379/1"
    expected = {"ssl_cert_reqs": "required", "ssl_ca_certs": "/etc/ssl/certs/internal-ca.pem"}
    assert conf["broker_use_ssl"] == conf["redis_backend_use_ssl"] == expected
    # Celery accepts them as they are: its Redis backend opens TLS connections that verify.
    remote = make_app(Settings.from_env(env), set_as_current=False)
    try:
        connection = remote.backend.connparams
        assert connection["connection_class"] is redis.SSLConnection
        assert connection["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    finally:
        remote.close()
    assert "broker_use_ssl" not in config(Settings.from_env({}))


# What README.md's `ACL SETUSER` example grants the application's user: keep the two alike.
ACL_KEYS = ["celery*", "_kombu.binding.*", "unacked*", "*.celery.pidbox*", f"{PACKAGE}:*"]
ACL_CATEGORIES = ["-@all"] + [
    f"+@{name}"
    for name in ("connection", "read", "write", "keyspace", "list", "string", "hash", "sortedset", "pubsub",
                 "transaction", "scripting")
] + ["-@dangerous"]  # fmt: skip


def test_a_worker_runs_as_an_acl_user_with_only_the_documented_rights(
    start_redis: Callable[..., RedisServer],
    start_worker: Callable[..., WorkerProcess],
    celery_env: dict[str, str],
) -> None:
    """A Redis 6 ACL user with the README's rules is enough for a worker, and for little else."""
    server = start_redis()
    password = secrets.token_urlsafe(18)
    admin = redis.Redis(host=server.host, port=server.port, password=server.password, socket_timeout=5)
    user = redis.Redis(host=server.host, port=server.port, username=PACKAGE, password=password, socket_timeout=5)
    try:
        admin.acl_setuser(
            PACKAGE, enabled=True, passwords=[f"+{password}"], reset_keys=True, keys=ACL_KEYS, channels=["*"],
            categories=ACL_CATEGORIES,
        )  # fmt: skip
        env = {**celery_env, **server.env, "REDIS_USERNAME": PACKAGE, "REDIS_PASSWORD": password}
        worker = start_worker(env, name="acl")
        producer = make_app(Settings.from_env(env), set_as_current=False)
        try:
            assert producer.send_task(f"{PACKAGE}.tasks.add", (20, 22)).get(timeout=30) == 42
        finally:
            # The result's finalizer unsubscribes from the result store: let it run while Redis is up.
            gc.collect()
            producer.backend.result_consumer.stop()
            producer.close()
        worker.stop()
        with pytest.raises(redis.exceptions.NoPermissionError):
            user.get("another-app:secret")
        with pytest.raises(redis.exceptions.NoPermissionError):
            user.flushall()
    finally:
        user.close()
        admin.close()
        server.stop()
