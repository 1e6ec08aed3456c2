{%- set sqs = cookiecutter.broker == "sqs" -%}
"""The example tasks, executed by a real worker on a real broker (see conftest.py)."""

from __future__ import annotations

{% if sqs -%}
import ast
{% endif -%}
{% if cookiecutter.durable_work -%}
import json
{% endif -%}
import os
{% if cookiecutter.durable_work -%}
import signal
{% endif -%}
{% if not sqs -%}
import threading
{% endif -%}
{% if not sqs or cookiecutter.rate_limits -%}
import time
{% endif -%}
from pathlib import Path
from typing import Any
{% if not sqs -%}
from urllib.parse import quote
{% endif %}
{% if sqs -%}
from celery.result import AsyncResult
{% else -%}
import pytest
{% endif %}
{% if not sqs -%}
from {{ cookiecutter.package_name }}.celery_app import make_app
from {{ cookiecutter.package_name }}.settings import Settings
{% endif -%}
from {{ cookiecutter.package_name }}.tasks import add
{%- if cookiecutter.retries %}, call_partner_api{% endif %}
{%- if cookiecutter.durable_work %}, export_report{% endif %}
{%- if cookiecutter.rate_limits %}, send_notification{% endif %}

{% if cookiecutter.durable_work -%}
import durable_probe
{% endif -%}
from celery_fixtures import WorkerProcess, {% if not sqs %}free_port, {% endif %}logged, wait_until
{%- if cookiecutter.broker == "sqs" %}


def outcome(result: AsyncResult, worker: WorkerProcess, timeout: float = 30) -> Any:
    """The task's return value, read from the worker's log: SQS has no result backend."""
    prefix = f"[{result.id}] succeeded in "
    found: list[str] = []

    def in_log() -> bool:
        found[:] = [line for line in worker.log.read_text(encoding="utf-8").splitlines() if prefix in line]
        return bool(found)

    wait_until(in_log, timeout, f"task {result.id} to succeed", worker)
    return ast.literal_eval(found[0].split(prefix, 1)[1].split(": ", 1)[1])
{%- else %}


def outcome(result: Any, worker: WorkerProcess, timeout: float = 30) -> Any:
    """The task's return value, from the result backend."""
    return result.get(timeout=timeout)
{%- endif %}


def test_add_runs_on_the_worker(worker: WorkerProcess) -> None:
    """A task sent through the broker is executed by the worker, and its result comes back."""
    assert outcome(add.delay(2, 3), worker, timeout=10) == 5


class RunsCodeWhenUnpickled:
    """Unpickling this calls os.mkdir(path): what a forged pickle message could make a worker do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.path),))


def test_pickle_message_is_refused_and_never_runs(worker: WorkerProcess, tmp_path: Path) -> None:
    """A task message serialised with pickle, put on the broker, is refused by the running worker.

    Its payload would create a directory when unpickled: the worker unpickles nothing, the task
    never runs, and the worker goes on with the next (JSON) message.
    """
    marker = tmp_path / "unpickled"
    refused = logged(worker.log, "Refusing to deserialize untrusted content of type pickle")
    forged = add.apply_async((RunsCodeWhenUnpickled(marker), 1), serializer="pickle")
    wait_until(lambda: refused() or marker.exists(), 30, "the worker to refuse the pickle message", worker)
    assert not marker.exists(), "the worker unpickled the message"
    assert outcome(add.delay(2, 2), worker) == 4
    assert f"[{forged.id}] succeeded" not in worker.log.read_text(encoding="utf-8")
{%- if not sqs %}
    assert forged.state == "PENDING"  # no result, not even a failure: the task never started
{%- endif %}
{%- if cookiecutter.durable_work %}


def test_task_cut_short_by_a_dying_worker_process_runs_again(worker: WorkerProcess, tmp_path: Path) -> None:
    """Durable work: a pool process SIGKILLed mid-task (OOM, a crash) does not lose the task.

    The message was not acknowledged yet (acks_late) and goes back to the queue when the
    process dies (reject_on_worker_lost), so the task runs again in another process, to the end.
    """

    def attempts() -> list[Path]:
        return sorted(tmp_path.glob("attempt-*"))

    result = durable_probe.hold.delay(str(tmp_path))
    wait_until(lambda: len(attempts()) == 1, 30, "the task to start", worker)
    os.kill(int(attempts()[0].name.removeprefix("attempt-")), signal.SIGKILL)
{%- if sqs %}
    wait_until(lambda: len(attempts()) == 2, 30, "the task to run again", worker)
{%- else %}
    # Or until the task is marked failed, as it would be without acks_late or reject_on_worker_lost.
    wait_until(lambda: len(attempts()) == 2 or result.ready(), 30, "the task to run again", worker)
    assert len(attempts()) == 2, f"the task did not run again but ended {result.state}"
{%- endif %}
    (tmp_path / "release").touch()
    assert outcome(result, worker) == 2


def test_export_report_is_idempotent(worker: WorkerProcess, celery_env: dict[str, str]) -> None:
    """Running the export twice, as a redelivery would, leaves exactly one complete report."""
    rows = [{"order": 1, "total": 12.5}, {"order": 2, "total": 3.0}]
    first = outcome(export_report.delay("daily-2024-01-31", rows), worker)
    second = outcome(export_report.delay("daily-2024-01-31", rows), worker)
    assert first == second
    reports = sorted(Path(celery_env["REPORTS_DIR"]).iterdir())
    assert [path.name for path in reports] == ["daily-2024-01-31.json"]
    assert json.loads(reports[0].read_text(encoding="utf-8"))["rows"] == rows
{%- endif %}
{%- if cookiecutter.retries %}


def test_partner_call_is_retried_with_backoff(worker: WorkerProcess) -> None:
    """A task failing twice with ConnectionError is retried with a countdown and succeeds on attempt 3."""
    result = call_partner_api.delay("order-42", 2)
    assert outcome(result, worker, timeout=30) == 3

    def retries() -> list[str]:
        lines = worker.log.read_text(encoding="utf-8").splitlines()
        return [line for line in lines if f"[{result.id}] retry: Retry in " in line]

    # A pool process logs "retry" after sending the retry, so the line may trail the result.
    wait_until(lambda: len(retries()) >= 2, 5, "the worker to log both retries", worker)
    assert len(retries()) == 2, "\n".join(retries())


def test_retry_policy_is_bounded() -> None:
    """Retries stop after 5 attempts, back off exponentially with jitter, and wait at most 60 s."""
    task = call_partner_api
    options = (task.max_retries, task.retry_backoff, task.retry_backoff_max, task.retry_jitter)
    assert options == (5, True, 60, True)
    assert call_partner_api.autoretry_for == (ConnectionError,)
{%- endif %}
{%- if cookiecutter.rate_limits %}


def test_rate_limit_spaces_out_tasks(worker: WorkerProcess) -> None:
    """With rate_limit 60/m the worker starts about one notification a second.

    kombu's token bucket lets a second task through at once after the worker was idle, so four
    notifications take two seconds or more; without the limit they take a few milliseconds.
    """
    started = time.monotonic()
    results = [send_notification.delay(f"user-{n}", "hello") for n in range(4)]
    assert [outcome(result, worker, timeout=20) for result in results] == [f"sent to user-{n}" for n in range(4)]
    assert time.monotonic() - started >= 1.5
{%- endif %}


def test_broker_password_never_in_worker_log(worker: WorkerProcess, celery_env: dict[str, str]) -> None:
    """The worker logs its broker URL masked; the secret itself appears nowhere in its log."""
    assert outcome(add.delay(1, 1), worker) == 2  # the worker has connected, worked and logged
{%- if cookiecutter.broker == "redis" %}
    secret = celery_env["REDIS_PASSWORD"]
{%- elif cookiecutter.broker == "rabbitmq" %}
    secret = celery_env["RABBITMQ_PASSWORD"]
{%- else %}
    secret = celery_env.get("AWS_SECRET_ACCESS_KEY") or "no-secret-in-the-environment"
{%- endif %}
    text = worker.log.read_text(encoding="utf-8")
    assert ": broker " in text, "the worker did not log its (sanitized) broker URL"
    assert secret not in text
{%- if not sqs %}
    assert quote(secret, safe="") not in text
{%- endif %}
{%- if not sqs %}


def test_producer_fails_fast_when_broker_is_down(celery_env: dict[str, str]) -> None:
    """With nothing listening on the broker's port, sending a task fails within seconds instead of hanging."""
    port_var = "{{ 'REDIS_PORT' if cookiecutter.broker == 'redis' else 'RABBITMQ_PORT' }}"
    host_var = "{{ 'REDIS_HOST' if cookiecutter.broker == 'redis' else 'RABBITMQ_HOST' }}"
    settings = Settings.from_env({**celery_env, host_var: "127.0.0.1", port_var: str(free_port())})
    dead = make_app(settings, set_as_current=False)
    seen: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        try:
            dead.send_task("{{ cookiecutter.package_name }}.tasks.add", (1, 2)).get(timeout=5)
        except Exception as exc:  # noqa: BLE001 (its type depends on where the producer gave up)
            seen["error"] = exc
        seen["seconds"] = time.monotonic() - started

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(timeout=20)  # a deadline for the test itself: a hang must fail, not block the suite
    dead.close()
    if sender.is_alive():
        pytest.fail("sending a task to a broker that is down still blocks after 20 s")
    assert "error" in seen, "sending to a broker that is down did not fail"
    assert seen["seconds"] < 10
{%- endif %}
