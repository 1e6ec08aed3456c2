"""The example tasks, executed by a real worker on a real broker (see conftest.py)."""

from __future__ import annotations

{% if cookiecutter.broker == "sqs" -%}
import ast
{% endif -%}
{% if cookiecutter.durable_work -%}
import json
{% endif -%}
{% if cookiecutter.broker != "sqs" -%}
import threading
{% endif -%}
{% if cookiecutter.broker != "sqs" or cookiecutter.rate_limits -%}
import time
{% endif -%}
{% if cookiecutter.durable_work -%}
from pathlib import Path
{% endif -%}
from typing import Any
{% if cookiecutter.broker != "sqs" -%}
from urllib.parse import quote
{% endif %}
{% if cookiecutter.broker == "sqs" -%}
from celery.result import AsyncResult
{%- else -%}
import pytest
{%- endif %}

from {{ cookiecutter.package_name }} import devstack
from {{ cookiecutter.package_name }}.celery_app import TASK_SOFT_TIME_LIMIT, TASK_TIME_LIMIT, app{% if cookiecutter.broker != "sqs" %}, make_app{% endif %}
{%- if cookiecutter.broker != "sqs" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}
from {{ cookiecutter.package_name }}.tasks import add
{%- if cookiecutter.retries %}, call_partner_api{% endif %}
{%- if cookiecutter.durable_work %}, export_report{% endif %}
{%- if cookiecutter.rate_limits %}, send_notification{% endif %}
{%- if cookiecutter.broker == "sqs" %}


def outcome(result: AsyncResult, worker: devstack.Proc, timeout: float = 30) -> Any:
    """The task's return value, read from the worker's log: SQS has no result backend."""
    prefix = f"[{result.id}] succeeded in "
    found: list[str] = []

    def logged() -> bool:
        found[:] = [line for line in worker.log.read_text(encoding="utf-8").splitlines() if prefix in line]
        return bool(found)

    devstack.wait_until(logged, timeout, f"task {result.id} to succeed", worker)
    return ast.literal_eval(found[0].split(prefix, 1)[1].split(": ", 1)[1])
{%- else %}


def outcome(result: Any, worker: devstack.Proc, timeout: float = 30) -> Any:
    """The task's return value, from the result backend."""
    return result.get(timeout=timeout)
{%- endif %}


def test_add_runs_on_the_worker(worker: devstack.Proc) -> None:
    """A task sent through the broker is executed by the worker, and its result comes back."""
    assert outcome(add.delay(2, 3), worker, timeout=10) == 5


def test_only_json_is_accepted() -> None:
    """The app sends and accepts JSON only, never pickle, and has time limits set."""
    assert (app.conf.task_serializer, app.conf.result_serializer) == ("json", "json")
    assert list(app.conf.accept_content) == ["json"]
    assert list(app.conf.result_accept_content) == ["json"]
    assert 0 < TASK_SOFT_TIME_LIMIT < TASK_TIME_LIMIT == app.conf.task_time_limit
{%- if cookiecutter.durable_work %}


def test_durable_work_settings() -> None:
    """Messages are acknowledged only after the task ends, also when a pool process dies."""
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
{%- if cookiecutter.broker in ("redis", "sqs") %}
    assert app.conf.broker_transport_options["visibility_timeout"] > TASK_TIME_LIMIT
{%- endif %}


def test_export_report_is_idempotent(worker: devstack.Proc, celery_env: dict[str, str]) -> None:
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


def test_partner_call_is_retried_with_backoff(worker: devstack.Proc) -> None:
    """A task failing twice with ConnectionError is retried with a countdown and succeeds on attempt 3."""
    result = call_partner_api.delay("order-42", 2)
    assert outcome(result, worker, timeout=30) == 3

    def retries() -> list[str]:
        lines = worker.log.read_text(encoding="utf-8").splitlines()
        return [line for line in lines if f"[{result.id}] retry: Retry in " in line]

    # A pool process logs "retry" after sending the retry, so the line may trail the result.
    devstack.wait_until(lambda: len(retries()) >= 2, 5, "the worker to log both retries", worker)
    assert len(retries()) == 2, "\n".join(retries())


def test_retry_policy_is_bounded() -> None:
    """Retries stop after 5 attempts, back off exponentially with jitter, and wait at most 60 s."""
    options = (call_partner_api.max_retries, call_partner_api.retry_backoff,
               call_partner_api.retry_backoff_max, call_partner_api.retry_jitter)
    assert options == (5, True, 60, True)
    assert call_partner_api.autoretry_for == (ConnectionError,)
{%- endif %}
{%- if cookiecutter.rate_limits %}


def test_rate_limit_spaces_out_tasks(worker: devstack.Proc) -> None:
    """With rate_limit 60/m the worker starts one notification a second: three take at least 1.5 s."""
    started = time.monotonic()
    results = [send_notification.delay(f"user-{n}", "hello") for n in range(3)]
    assert [outcome(result, worker, timeout=20) for result in results] == [f"sent to user-{n}" for n in range(3)]
    assert time.monotonic() - started >= 1.5
{%- endif %}


def test_broker_password_never_in_worker_log(worker: devstack.Proc, celery_env: dict[str, str]) -> None:
    """The worker logs its broker URL masked; the secret itself appears nowhere in its log."""
    add.delay(1, 1)
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
{%- if cookiecutter.broker != "sqs" %}
    assert quote(secret, safe="") not in text
{%- endif %}
{%- if cookiecutter.broker != "sqs" %}


def test_producer_fails_fast_when_broker_is_down(celery_env: dict[str, str]) -> None:
    """With nothing listening on the broker's port, sending a task fails within seconds instead of hanging."""
    port_var = "{{ 'REDIS_PORT' if cookiecutter.broker == 'redis' else 'RABBITMQ_PORT' }}"
    host_var = "{{ 'REDIS_HOST' if cookiecutter.broker == 'redis' else 'RABBITMQ_HOST' }}"
    dead = make_app(Settings.from_env({**celery_env, host_var: "127.0.0.1", port_var: str(devstack.free_port())}),
                    set_as_current=False)
    seen: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        try:
            dead.send_task("{{ cookiecutter.package_name }}.tasks.add", (1, 2)).get(timeout=5)
        except Exception as exc:  # the type depends on where it gave up
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
