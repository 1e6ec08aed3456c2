"""Each variant's docker-compose.yml, checked for structure (Docker itself is not run here).

The live behaviours (health, restarts, warm shutdown) are tested by each starter's own
tests/test_stack.py under supervisord; this checks what only the Compose file can get wrong:
it parses, every service has a health check, no secret value or compose-interpolated secret
is on a command line, and each service's environment carries only the secrets it needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_starter_locks import VARIANTS, render_with

# Which secrets each service may receive; "broker" stands for the broker's password.
MAY_HAVE = {
    "redis": {"broker"},
    "rabbitmq": {"broker"},
    "worker": {"broker", "PUBLISHER_KEY", "PUBLISHER_SECRET"},
    "beat": {"broker"},
    "monitor": {"broker"},
    "router": {"BACKEND_SECRET", "PUBLISHER_KEY", "PUBLISHER_SECRET"},
    "backend": {"BACKEND_SECRET", "TICKET_SECRET"},
}
BROKER_PASSWORDS = {"REDIS_PASSWORD", "RABBITMQ_PASSWORD"}


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key twice in one mapping as docker compose does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Only the mapping's own keys: what `<<: *anchor` merges in may be overridden.
        keys = [key.value for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"]
        duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
        if duplicates:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {duplicates}", node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_compose(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((project / "docker-compose.yml").read_text(encoding="utf-8"), UniqueKeyLoader)
    return loaded


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("compose")
    return {variant: render_with(variant, base / variant, scheduling="critical") for variant in VARIANTS}


def secret_names(project: Path) -> set[str]:
    """The secrets of .env.example: the names whose value is a replace-with- placeholder."""
    lines = (project / ".env.example").read_text(encoding="utf-8").splitlines()
    return {line.split("=")[0] for line in lines if "=replace-with-" in line and not line.startswith("#")}


def carried(value: str, secrets: set[str]) -> set[str]:
    """The secrets a compose value interpolates (${NAME...}; $$ is a literal $ for the shell)."""
    return {name for name in re.findall(r"(?<!\$)\$\{([A-Z_]+)", value) if name in secrets}


def command_text(service: dict[str, Any]) -> str:
    parts: list[Any] = []
    for key in ("command", "entrypoint"):
        value = service.get(key, [])
        parts += value if isinstance(value, list) else [value]
    parts += service.get("healthcheck", {}).get("test", [])
    return "\n".join(str(part) for part in parts)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_compose_services_are_checked_and_hold_only_their_secrets(variant: str, projects: dict[str, Path]) -> None:
    project = projects[variant]
    compose = load_compose(project)
    secrets = secret_names(project)  # none for celery-sqs (AWS credentials come from its own chain)
    services: dict[str, dict[str, Any]] = compose["services"]
    assert services
    seen: set[str] = set()
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        command = command_text(service)
        assert not carried(command, secrets), f"{name} puts a secret on a command line: {command}"
        env = {key: str(value) for key, value in (service.get("environment") or {}).items()}
        held = {secret for value in env.values() for secret in carried(value, secrets)}
        seen |= held
        may = MAY_HAVE.get(name, set())
        enqueues = name == "backend" and variant.startswith("hybrid")  # the hybrid's backend enqueues jobs
        allowed = (may - {"broker"}) | (BROKER_PASSWORDS if "broker" in may or enqueues else set())
        assert held <= allowed, f"{name} gets secrets it does not need: {sorted(held - allowed)}"
    assert seen == secrets, f"secrets no service receives: {sorted(secrets - seen)}"


@pytest.mark.parametrize("variant", [v for v in VARIANTS if VARIANTS[v][1] in ("redis", "rabbitmq")])
def test_broker_services_refuse_the_placeholder(variant: str, projects: dict[str, Path]) -> None:
    compose = load_compose(projects[variant])
    stack, broker = VARIANTS[variant]
    if stack == "crossbar":
        assert broker not in compose["services"]
        return
    assert "replace-with-*" in command_text(compose["services"][broker])


@pytest.mark.parametrize("variant", [v for v in VARIANTS if VARIANTS[v][0] != "crossbar"])
def test_beat_schedule_is_on_a_named_volume(variant: str, projects: dict[str, Path]) -> None:
    compose = load_compose(projects[variant])
    beat = compose["services"]["beat"]
    schedule = Path(beat["command"][beat["command"].index("--schedule") + 1])
    mounts = dict(volume.split(":")[::-1] for volume in beat["volumes"])
    assert mounts.get(str(schedule.parent)) in compose["volumes"]
