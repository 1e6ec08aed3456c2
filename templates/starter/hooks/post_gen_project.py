"""Component switches: remove the files this stack does not use (docs/starters.md).

Cookiecutter renders this script with the project's context and runs it in the generated
project directory. It only deletes files the template itself rendered a moment ago; it is
deterministic and touches neither the network nor anything outside the project.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGE = "{{ cookiecutter.package_name }}"
STACK = "{{ cookiecutter.stack }}"
USE_CELERY = {{ "True" if cookiecutter.use_celery else "False" }}
USE_CROSSBAR = {{ "True" if cookiecutter.use_crossbar else "False" }}
DURABLE_WORK = {{ "True" if cookiecutter.durable_work else "False" }}
SCHEDULING = "{{ cookiecutter.scheduling }}"
BROKER = "{{ cookiecutter.broker }}"

SRC = f"src/{PACKAGE}"
CELERY_FILES = [
    f"{SRC}/celery_app.py", f"{SRC}/tasks.py", "tests/test_tasks.py", "tests/test_beat.py",
    "tests/celery_fixtures.py", "tests/test_celery_ops.py", "tests/test_celery_faults.py", "tests/test_celery_scale.py",
    # Also tests/test_stack.py (SIGTERM while a task is held) on every Celery stack.
    "tests/durable_probe.py",
]
CROSSBAR_FILES = [
    f"{SRC}/router.py", f"{SRC}/backend.py", f"{SRC}/tickets.py", ".crossbar", "web",
    "requirements/crossbar.in", "requirements/crossbar.txt",
    "tests/test_router.py", "tests/test_browser.py", "tests/router_fixtures.py", "tests/wamp_client.py",
    "tests/test_backend_scale.py", "tests/test_router_proxies.py",
]
HYBRID_FILES = [f"{SRC}/bridge.py", f"{SRC}/jobs.py", f"{SRC}/quota.py", "tests/test_hybrid.py"]
BEAT_FILES = ["tests/test_beat.py"]
# Live on redis-server only (the tests start it): the broker faults need durable_probe too.
REDIS_FILES = ["tests/test_celery_faults.py", "tests/test_celery_scale.py"]
FAULT_FILES = ["tests/test_celery_faults.py"]
# SQS has neither remote control nor events, and no password to refuse.
NOT_SQS_FILES = ["tests/test_celery_ops.py"]
# The live test of the whole stack under supervisord: RabbitMQ and SQS are not started locally.
REMOTE_BROKER_FILES = ["tests/test_stack.py"]


def check_context() -> None:
    """Refuse a context whose switches contradict the stack (the advisor never builds one)."""
    if STACK not in ("celery", "crossbar", "hybrid"):
        sys.exit(f"unknown stack {STACK!r}")
    if USE_CELERY != (STACK in ("celery", "hybrid")) or USE_CROSSBAR != (STACK in ("crossbar", "hybrid")):
        sys.exit(f"use_celery={USE_CELERY} and use_crossbar={USE_CROSSBAR} do not fit stack {STACK!r}")
    if SCHEDULING not in ("none", "light", "critical"):
        sys.exit(f"unknown scheduling {SCHEDULING!r}")


def unused() -> list[str]:
    """The paths (files or directories) this stack does not use."""
    paths: list[str] = []
    if not USE_CELERY:
        paths += CELERY_FILES
    if not USE_CROSSBAR:
        paths += CROSSBAR_FILES
    if STACK != "hybrid":
        paths += HYBRID_FILES
    if SCHEDULING == "none":
        paths += BEAT_FILES
    if not DURABLE_WORK:
        paths += FAULT_FILES
    if USE_CELERY and BROKER != "redis":
        paths += REDIS_FILES + REMOTE_BROKER_FILES
    if BROKER == "sqs":
        paths += NOT_SQS_FILES
    return sorted(set(paths))


def remove(relative: str) -> None:
    path = Path(relative)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def main() -> None:
    check_context()
    for relative in unused():
        remove(relative)


if __name__ == "__main__":
    main()
