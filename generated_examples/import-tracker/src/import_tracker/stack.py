"""The glue between .env and supervisord, for scripts/run (local runs only; not in the image).

supervisord (supervisord.conf) starts, restarts and stops the processes; this module only
prepares what it needs:

- `python -m import_tracker.stack write-env` writes .env on the first run (mode 0600, never
  overwritten): generated secrets and the fixed local ports;
- `python -m import_tracker.stack run` reads .env (python-dotenv; the environment wins, as with
  docker compose), refuses missing secrets and the placeholders of .env.example (fail closed),
  writes redis-server's config with the password into .devstack/ (mode 0600: never a password
  on a command line),
  prints where each service listens and replaces itself with `supervisord -n`.

The tests call write_env() and prepare() to start the stack the same way (tests/test_stack.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from dotenv import dotenv_values

from . import router
from .settings import PLACEHOLDER

PACKAGE = "import_tracker"
PROJECT_DIR = Path(__file__).resolve().parents[2]
# Generated into .env on the first run; settings that have no default; fixed local ports.
SECRETS: list[str] = ["REDIS_PASSWORD", "BACKEND_SECRET", "PUBLISHER_KEY", "PUBLISHER_SECRET", "TICKET_SECRET"]
REQUIRED: list[str] = []
PORTS: dict[str, int] = {"REDIS_PORT": 6390, "ROUTER_INTERNAL_PORT": 8081, "ROUTER_PORT": 8080}


class StackError(RuntimeError):
    """The stack cannot start; the message says what to fix."""


def env_text(ports: Mapping[str, int]) -> str:
    """The text of a new .env: a fresh random value for every secret, and the ports."""
    lines = ["# Written by scripts/run on its first run; every setting is in .env.example."]
    lines += [f"{name}={secrets.token_urlsafe(32)}" for name in SECRETS]
    lines += [f"{name}={port}" for name, port in ports.items()]
    return "\n".join(lines) + "\n"


def write_env(path: Path, ports: Mapping[str, int] = PORTS) -> bool:
    """Create `path` (mode 0600) with env_text(ports); False when it exists (it is never overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(env_text(ports))
    return True


def load_env(path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """.env's values under `environ`'s: a variable set in the environment wins, as in docker compose."""
    values = {name: value for name, value in dotenv_values(path).items() if value is not None}
    return {**values, **environ}


def check_env(env: Mapping[str, str]) -> None:
    """StackError naming every secret, port or setting that is missing or still a placeholder."""
    problems = []
    for name in SECRETS:
        value = env.get(name, "")
        if not value:
            problems.append(f"{name} is not set")
        elif value.startswith(PLACEHOLDER):
            problems.append(f"{name} is still the placeholder from .env.example")
    for name in [*REQUIRED, *PORTS]:
        if not env.get(name):
            problems.append(f"{name} is not set")
    for name in PORTS:
        if env.get(name) and not env[name].isdigit():
            problems.append(f"{name}={env[name]!r} is not a port number")
    if problems:
        raise StackError(
            "refusing to start: "
            + "; ".join(problems)
            + ". Set them in .env (see .env.example), or move .env away and run scripts/run to write a new one."
        )


def check_ports_free(env: Mapping[str, str]) -> None:
    """StackError naming each local port that something else already listens on."""
    taken = []
    for name in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            try:
                probe.bind(("127.0.0.1", int(env[name])))
            except OSError:
                taken.append(f"{name}={env[name]}")
    if taken:
        raise StackError(f"port(s) in use on 127.0.0.1: {', '.join(taken)}: stop what uses them or change them in .env")


def _redis_quote(value: str) -> str:
    """A value for redis.conf: double quotes, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_redis_conf(env: Mapping[str, str], devstack_dir: Path) -> Path:
    """redis-server's config in `devstack_dir` (mode 0600): loopback, the password, an append-only file.

    The append-only file (in `devstack_dir`/redis) keeps queued tasks across restarts.
    """
    data_dir = devstack_dir / "redis"
    data_dir.mkdir(mode=0o700, exist_ok=True)
    config = devstack_dir / "redis.conf"
    config.unlink(missing_ok=True)  # re-created below with mode 0600, whatever the old one had
    text = "\n".join(
        [
            "bind 127.0.0.1",
            f"port {int(env['REDIS_PORT'])}",
            "protected-mode yes",
            f"requirepass {_redis_quote(env['REDIS_PASSWORD'])}",
            f"dir {_redis_quote(str(data_dir))}",
            'save ""',
            "appendonly yes",
            "",
        ]
    )
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return config


def _executable(name: str, env_var: str, install_hint: str, env: Mapping[str, str]) -> str:
    """$env_var if set, else `name` beside this Python, else on PATH; StackError saying how to install it."""
    configured = env.get(env_var)
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise StackError(f"{env_var}={configured!r} is not an executable file: point it at {name} or unset it")
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise StackError(f"{name} not found: {install_hint} or set {env_var}")
    return found


def addresses(env: Mapping[str, str]) -> list[str]:
    """Where each service listens, one line each, for the user."""
    lines = []
    lines.append(f"redis    redis://127.0.0.1:{env['REDIS_PORT']}  (password: REDIS_PASSWORD in .env)")
    port = env["ROUTER_PORT"]
    lines.append(f"router   http://127.0.0.1:{port}/  (the page; WAMP on ws://127.0.0.1:{port}/ws)")
    lines.append(f"bridge   http://127.0.0.1:{env['ROUTER_INTERNAL_PORT']}/  (internal: the workers' HTTP bridge)")
    lines.append("backend  joins the router as 'backend'")
    lines.append(f"sign in  .venv/bin/dotenv run -- .venv/bin/python -m {PACKAGE}.tickets alice  (a sign-in URL)")
    lines.append("worker   celery worker, consumes from the broker")
    lines.append(f"beat     celery beat, heartbeat every {env.get('BEAT_INTERVAL_SECONDS') or 60} s")
    return lines


def prepare(
    project_dir: Path, env_file: Path, devstack_dir: Path, environ: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """Check the settings and write what supervisord needs; return its argv and environment."""
    if not env_file.is_file():
        raise StackError(f"{env_file} does not exist: run scripts/run, which writes it")
    env = load_env(env_file, environ)
    check_env(env)
    check_ports_free(env)
    devstack_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(devstack_dir, 0o700)  # mkdir's mode is filtered by the umask
    supervisord = _executable(
        "supervisord", "SUPERVISORD_BIN", "run scripts/run (it installs requirements/test.txt into .venv)", env
    )
    env["DEVSTACK_DIR"] = str(devstack_dir.resolve())
    env["REDIS_SERVER_BIN"] = _executable(
        "redis-server",
        "REDIS_SERVER_BIN",
        "install it with apt-get install redis-server (macOS: brew install redis)",
        env,
    )
    write_redis_conf(env, devstack_dir)
    try:
        env["CROSSBAR_BIN"] = router.find_crossbar(project_dir, env)
    except router.StartError as exc:
        raise StackError(str(exc)) from None
    # The programs (celery, python) come from this Python's environment first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    return [supervisord, "-n", "-c", str(project_dir / "supervisord.conf")], env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.stack", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["write-env", "run"])
    args = parser.parse_args(argv)
    env_file = PROJECT_DIR / ".env"
    if args.command == "write-env":
        if write_env(env_file):
            print(f"wrote {env_file} with generated secrets and the local ports (see .env.example)", file=sys.stderr)
        os.chmod(env_file, 0o600)
        return 0
    devstack_dir = Path(os.environ.get("DEVSTACK_DIR") or PROJECT_DIR / ".devstack")
    try:
        command, env = prepare(PROJECT_DIR, env_file, devstack_dir, os.environ)
    except StackError as exc:
        print(f"scripts/run: {exc}", file=sys.stderr)
        return 1
    print("import-tracker: starting under supervisord; Ctrl-C stops everything (warm shutdown).")
    for line in addresses(env):
        print(f"  {line}")
    control = Path(env["DEVSTACK_DIR"]) / "supervisor.sock"
    print(f"  status:  .venv/bin/supervisorctl -s unix://{control} status", flush=True)
    # supervisord takes over this process (and its Ctrl-C); an argument list, no shell.
    os.execve(command[0], command, env)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())
