"""Fixtures that start the real infrastructure for the tests, on free 127.0.0.1 ports.

The Crossbar router, the backend and Chromium come from router_fixtures.py.
A missing program or an unreachable broker fails the tests at once with a message saying
what to install or start; nothing is skipped and nothing waits without a deadline.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dotenv import dotenv_values

from router_fixtures import *  # noqa: F403 (the router, backend and browser fixtures)

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
    # The tests start their own router (router_fixtures.py): never where the developer's listens.
    for name in ("ROUTER_HOST", "ROUTER_PORT", "ROUTER_ORIGINS", "PUBLISHER_ALLOW_FROM"):
        env.pop(name, None)
    env.pop("DEVSTACK_DIR", None)
    return env
