{%- set celery = cookiecutter.use_celery -%}
{%- set crossbar = cookiecutter.use_crossbar -%}
{%- set beat = celery and cookiecutter.scheduling != "none" -%}
"""The whole stack, started the way scripts/run starts it: supervisord with supervisord.conf.

One stack for this module, on free 127.0.0.1 ports with secrets generated for the run and
written by stack.write_env(), as scripts/run writes .env. It proves that every service
answers, that the README's "Try it" commands work against it, that supervisord restarts a
killed program, and that SIGTERM to supervisord is a warm shutdown{% if celery %} (the running task
finishes){% endif %} that leaves nothing running.
"""

from __future__ import annotations

{% if celery %}import json
{% endif %}import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any{% if beat %}, cast{% endif %}

import psutil
import pytest
{%- if celery %}
import redis
from kombu.exceptions import OperationalError
{%- endif %}
from mirakuru import SimpleExecutor
from supervisor.xmlrpc import SupervisorTransport

from {{ cookiecutter.package_name }} import stack as glue
{%- if celery %}
from {{ cookiecutter.package_name }}.celery_app import make_app
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}

PROJECT_DIR = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
{%- set programs = [] %}
{%- if celery %}{% set _ = programs.append("redis") %}{% endif %}
{%- if crossbar %}{% set _ = programs.append("router") %}{% endif %}
{%- if celery %}{% set _ = programs.append("worker") %}{% endif %}
{%- if beat %}{% set _ = programs.append("beat") %}{% endif %}
{%- if crossbar %}{% set _ = programs.append("backend") %}{% endif %}
PROGRAMS = {{ programs | tojson }}  # supervisord.conf's programs
{%- import "env.j2" as env with context %}
{%- set withheld = {} %}
{%- for program in programs %}
{%- set names = [] %}
{%- for var in env.vars if var.kind == "secret" and var.services is defined and var.services is not none and program not in var.services %}
{%- set _ = names.append(var.name) %}
{%- endfor %}
{%- set _ = withheld.update({program: names}) %}
{%- endfor %}
{%- if withheld.values() | sum(start=[]) %}
# The secrets each program must not see (env.j2 lists which process needs which, as for compose).
WITHHELD: dict[str, list[str]] = {
{%- for program, names in withheld | dictsort %}
    "{{ program }}": {{ names | tojson }},
{%- endfor %}
}
{%- endif %}
RESTARTED = "{{ "backend" if crossbar else "worker" }}"  # the program the restart test kills
START_TIMEOUT = 120.0  # seconds for the whole stack to answer (Crossbar and Celery import a lot)
STOP_TIMEOUT = 120.0  # seconds for supervisord's ordered warm shutdown
# Settings a developer's shell may hold for their own stack: empty here, so the defaults apply.
RESET = ["REDIS_HOST", "REDIS_DB", "ROUTER_HOST", "ROUTER_ORIGINS", "ROUTER_PROXIES", "PUBLISHER_ALLOW_FROM"]
{%- if celery %}
# The README's "Try it": enqueue a task and wait for its result.
ENQUEUE = "from {{ cookiecutter.package_name }}.tasks import add; print(add.delay(2, 3).get(timeout=30))"
{%- endif %}
{%- if crossbar %}
# The README's "Try it": call the backend as a browser would (anonymously).
CALL = """
import os
from autobahn.asyncio.component import Component, run

component = Component(transports=f"ws://127.0.0.1:{os.environ['ROUTER_PORT']}/ws", realm="{{ cookiecutter.package_name }}")


@component.on_join
async def joined(session, details):
    try:
        print(await session.call("{{ cookiecutter.package_name }}.public.hello", "you"))
    finally:
        await session.leave()


run([component], log_level="warn")
"""
{%- endif %}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """A running supervisord and what the tests need to reach its programs."""

    executor: SimpleExecutor
    env_file: Path
    env: dict[str, str]  # the programs' environment (.env under the test's settings)
    log: Path  # supervisord's stdout: its own log and every program's
    run_dir: Path

    @property
    def pid(self) -> int:
        assert self.executor.process is not None
        return int(self.executor.process.pid)

    def rpc(self) -> Any:
        """supervisord's XML-RPC interface, over its control socket."""
        socket_url = f"unix://{self.env['DEVSTACK_DIR']}/supervisor.sock"
        return xmlrpc.client.ServerProxy("http://127.0.0.1", SupervisorTransport(None, None, socket_url)).supervisor

    def running_pid(self, program: str) -> int | None:
        """The program's pid when supervisord reports it RUNNING, else None."""
        try:
            info = self.rpc().getProcessInfo(program)
        except (OSError, xmlrpc.client.Fault):
            return None
        return int(info["pid"]) if info["statename"] == "RUNNING" else None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
        """Poll `check` until true; fail with supervisord's log when the deadline passes or it exits."""
        deadline = time.monotonic() + timeout
        while not check():
            if not self.executor.running():
                pytest.fail(f"supervisord exited while waiting for {what}:\n{self.tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:g} s waiting for {what}:\n{self.tail()}", pytrace=False)
            time.sleep(0.2)

    def run_python(self, code: str) -> subprocess.CompletedProcess[str]:
        """Run `code` the way the README's "Try it" does: through `dotenv run` on this stack's .env."""
        command = [sys.executable, "-m", "dotenv", "-f", str(self.env_file), "run", "--", sys.executable, "-c", code]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60, check=False)

    def try_it(self, code: str) -> str:
        """run_python(), which must succeed; its output."""
        done = self.run_python(code)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()
{%- if celery %}

    def redis(self) -> redis.Redis:
        """A client of the stack's Redis, on the result database."""
        settings = Settings.from_env(self.env)
        return redis.Redis.from_url(settings.redis_url(settings.redis_db + 1), socket_timeout=5)

    def worker_answers(self) -> bool:
        app = make_app(Settings.from_env(self.env), set_as_current=False)
        try:
            return bool(app.control.ping(destination=[f"worker@{socket.gethostname()}"], timeout=1))
        except OperationalError:  # the broker is not up yet
            return False
        finally:
            app.close()
{%- endif %}


def stack_environ(run_dir: Path) -> dict[str, str]:
    """The environment scripts/run would see: this one, without a developer's stack settings."""
    environ = {**os.environ, **dict.fromkeys(RESET, "")}
    src, tests = PROJECT_DIR / "src", PROJECT_DIR / "tests"
{%- if celery %}
    # The worker also loads the test-only task tests/durable_probe.py (Celery reads
    # CELERY_WORKER_INCLUDE as `worker --include`), which holds until the test releases it.
    environ["CELERY_WORKER_INCLUDE"] = "durable_probe"
{%- if beat %}
    environ["BEAT_INTERVAL_SECONDS"] = "1"
{%- endif %}
{%- if cookiecutter.durable_work %}
    environ["REPORTS_DIR"] = str(run_dir / "reports")
{%- endif %}
{%- endif %}
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), str(tests), environ.get("PYTHONPATH", "")) if p)
    return environ


{%- if crossbar %}


def called(stack: Stack) -> bool:
    """True when the README's call reaches the backend (False while it is not registered)."""
    done = stack.run_python(CALL)
    return done.returncode == 0 and "Hello, you!" in done.stdout
{%- endif %}


def answers_http(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack under supervisord, every service answering; stopped (by pid) at the end."""
    run_dir = tmp_path_factory.mktemp("stack")
    env_file = run_dir / ".env"
    assert glue.write_env(env_file, {name: free_port() for name in glue.PORTS})
    environ = stack_environ(run_dir)
    try:
        command, env = glue.prepare(PROJECT_DIR, env_file, run_dir / "devstack", environ)
    except glue.StackError as exc:
        pytest.fail(str(exc), pytrace=False)
    log = run_dir / "supervisord.log"
    with open(log, "wb") as sink:
        executor = SimpleExecutor(
            command,
            cwd=str(PROJECT_DIR),
            envvars=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=STOP_TIMEOUT,
        )
        executor.start()
    running = Stack(executor, env_file, env, log, run_dir)
    try:
        running.wait_for(lambda: all(running.running_pid(p) for p in PROGRAMS), f"supervisord to run {PROGRAMS}")
{%- if celery %}
        running.wait_for(running.worker_answers, "the worker to answer a ping")
{%- endif %}
{%- if crossbar %}
        running.wait_for(lambda: answers_http(env["ROUTER_PORT"]), "the router to answer HTTP")
        running.wait_for(lambda: called(running), "the backend to answer a call")
{%- endif %}
        yield running
    finally:
        executor.stop()  # SIGTERM to supervisord; mirakuru also ends whatever it left


def test_run_refuses_placeholder_and_missing_secrets(tmp_path: Path) -> None:
    """scripts/run fails closed: the .env.example placeholders, or a secret left out, stop it before anything starts."""
    example = (PROJECT_DIR / ".env.example").read_text(encoding="utf-8")
    placeholders = tmp_path / "placeholders.env"
    placeholders.write_text(example, encoding="utf-8")
    with pytest.raises(glue.StackError) as refused:
        glue.prepare(PROJECT_DIR, placeholders, tmp_path / "devstack", stack_environ(tmp_path))
    assert all(f"{name} is still the placeholder" in str(refused.value) for name in glue.SECRETS)
    missing = tmp_path / "missing.env"
    assert glue.write_env(missing, {name: free_port() for name in glue.PORTS})
    left_out = glue.SECRETS[0]
    lines = missing.read_text(encoding="utf-8").splitlines()
    missing.write_text("\n".join(line for line in lines if not line.startswith(f"{left_out}=")), encoding="utf-8")
    with pytest.raises(glue.StackError, match=f"{left_out} is not set"):
        glue.prepare(PROJECT_DIR, missing, tmp_path / "devstack", stack_environ(tmp_path))
    assert not (tmp_path / "devstack").exists()  # nothing was prepared, let alone started


def stack_processes(stack: Stack) -> list[psutil.Process]:
    """supervisord and every process below it, right now."""
    root = psutil.Process(stack.pid)
    return [root, *root.children(recursive=True)]


def test_every_service_answers_on_the_ports_in_env(stack: Stack) -> None:
    """Each program runs, and each service answers where .env says (what scripts/run prints)."""
    lines = glue.addresses(stack.env)
{%- if celery %}
    assert stack.redis().ping()
    assert f"redis://127.0.0.1:{stack.env['REDIS_PORT']}" in lines[0]
    assert stack.worker_answers()
{%- endif %}
{%- if beat %}
    heartbeat_key = Settings.from_env(stack.env).heartbeat_key
    stack.wait_for(lambda: int(cast("bytes | None", stack.redis().get(heartbeat_key)) or 0) >= 1, "beat's heartbeat")
{%- endif %}
{%- if crossbar %}
    assert answers_http(stack.env["ROUTER_PORT"])
    assert any(f"http://127.0.0.1:{stack.env['ROUTER_PORT']}/" in line for line in lines)
{%- endif %}
    assert sorted(info["name"] for info in stack.rpc().getAllProcessInfo()) == sorted(PROGRAMS)

{%- if withheld.values() | sum(start=[]) %}


def test_each_program_sees_only_its_own_secrets(stack: Stack) -> None:
    """A program's environment holds no value of a secret it does not need (the redis-server none at all)."""
    values = glue.load_env(stack.env_file, {})
    checked = 0
    for program, names in WITHHELD.items():
        pid = stack.running_pid(program)
        assert pid is not None, program
        seen = set(psutil.Process(pid).environ().values())
        leaked = [name for name in names if values[name] in seen]
        assert not leaked, f"{program} can read {leaked}"
        checked += len(names)
    assert checked  # at least one secret is withheld from some program
{%- endif %}
{%- if celery %}


def test_try_it_enqueues_a_task(stack: Stack) -> None:
    """The README's example: a task enqueued from the shell runs on the stack's worker."""
    assert stack.try_it(ENQUEUE) == "5"
{%- endif %}
{%- if crossbar %}


def test_try_it_calls_the_backend(stack: Stack) -> None:
    """The README's example: an anonymous WAMP client calls the backend through the router."""
    assert "Hello, you! (call #" in stack.try_it(CALL)
{%- endif %}


def test_a_killed_program_is_restarted_and_serves_again(stack: Stack) -> None:
    """SIGKILL to the {{ "backend" if crossbar else "worker" }}: supervisord starts it again, and it serves again."""
    killed = stack.running_pid(RESTARTED)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    stack.wait_for(lambda: stack.running_pid(RESTARTED) not in (None, killed), f"supervisord to restart {RESTARTED}")
{%- if crossbar %}
    # Calls fail until the new backend has joined and registered again.
    stack.wait_for(lambda: called(stack), "the restarted backend to answer a call")
{%- else %}
    stack.wait_for(stack.worker_answers, "the restarted worker to answer a ping")
    assert stack.try_it(ENQUEUE) == "5"
{%- endif %}


def test_sigterm_is_a_warm_shutdown_that_leaves_nothing_running(stack: Stack) -> None:
    """SIGTERM to supervisord stops every program in order{% if celery %}, lets the running task finish (its
    result is stored, and it ran once){% endif %}, and leaves no process of the stack behind."""
    processes = stack_processes(stack)
    assert len(processes) > len(PROGRAMS)  # supervisord, its programs and their children
{%- if celery %}
    held = stack.run_dir / "held"
    held.mkdir()
    app = make_app(Settings.from_env(stack.env), set_as_current=False)
    try:
        task_id = app.send_task("durable_probe.hold", (str(held), 120)).id
    finally:
        app.close()
    stack.wait_for(lambda: any(held.glob("attempt-*")), "the held task to start")
    # The result arrives on this channel when the worker stores it, even if Redis stops right after.
    results = stack.redis().pubsub()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
    results.subscribe(f"celery-task-meta-{task_id}")
{%- endif %}
    os.kill(stack.pid, signal.SIGTERM)
{%- if celery %}
    stack.wait_for(lambda: "Warm shutdown" in stack.tail(200), "the worker's warm shutdown", STOP_TIMEOUT)
    (held / "release").touch()
    result = _next_message(stack, results, STOP_TIMEOUT)
    assert result["status"] == "SUCCESS", result
    assert result["result"] == 1  # one attempt: the task was not killed and run again
{%- endif %}
    assert stack.executor.process is not None
    assert stack.executor.process.wait(timeout=STOP_TIMEOUT) == 0, stack.tail()
    deadline = time.monotonic() + 30
    while (left := [p for p in processes if p.is_running()]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"still running after supervisord exited: {left}"
{%- if celery %}


def _next_message(stack: Stack, pubsub: Any, timeout: float) -> dict[str, Any]:
    """The first message published on the subscribed channel, decoded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        except redis.ConnectionError:
            pytest.fail(f"Redis stopped before the task's result arrived:\n{stack.tail()}", pytrace=False)
        if message is not None:
            pubsub.close()
            decoded: dict[str, Any] = json.loads(message["data"])
            return decoded
    pytest.fail(f"no result within {timeout:g} s:\n{stack.tail()}", pytrace=False)
{%- endif %}
