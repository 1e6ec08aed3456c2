"""Start, watch and stop the local processes of live-board (scripts/run and the tests).

Everything binds to 127.0.0.1 on free (or configured) ports. Readiness is polled with a
deadline, never assumed after a fixed sleep; a process that dies or never becomes ready
raises StartError with the tail of its log. Each process runs in its own session, so that
stop() can end it together with its children (Celery's pool processes, Crossbar's workers).

`python -m live_board.devstack` starts the whole stack and stops it again on Ctrl-C or
SIGTERM. Standard library only: Celery is imported where a worker's readiness is checked.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "live_board"
PROJECT_DIR = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.05
TAIL_LINES = 25
PLACEHOLDER = "replace-with-"  # the prefix of every secret placeholder in .env.example
# What `main` starts, in this order (each needs the ones before it).
COMPONENTS: list[str] = ["router", "backend"]
# What must be set before anything starts: generated secrets (.env) and settings without a default.
SECRETS: list[str] = ["BACKEND_SECRET", "TICKET_SECRET"]
REQUIRED: list[str] = []


class StartError(RuntimeError):
    """A process could not be started or did not become ready; the message says why."""


@dataclass
class Proc:
    """A process started by start_process(): its name, its Popen and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of the process's log (empty when there is none yet)."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exit_status(proc: Proc) -> int | None:
    """The exit status if the process has ended, else None.

    Uses waitid(WNOWAIT) so the ended process is not reaped yet: its process group id cannot
    be reused by another process before stop() has signalled what is left of the group.
    """
    if proc.popen.returncode is not None:
        return proc.popen.returncode
    if not hasattr(os, "waitid"):  # macOS has no waitid(): poll, which reaps
        return proc.popen.poll()
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped elsewhere
        return proc.popen.poll() if proc.popen.returncode is None else proc.popen.returncode
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _describe_exit(proc: Proc, status: int) -> str:
    if status < 0:
        return f"{proc.name} (pid {proc.pid}) was killed by signal {-status}"
    return f"{proc.name} (pid {proc.pid}) exited with status {status}"


def _with_tail(message: str, proc: Proc | None) -> str:
    if proc is None:
        return message
    tail = proc.tail()
    return f"{message}; last lines of {proc.log}:\n{tail}" if tail else f"{message}; {proc.log} is empty"


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: Proc | None = None) -> None:
    """Poll `check` every POLL_SECONDS until it returns True; raise StartError at the deadline.

    With `proc`, also raise as soon as that process has died (with the tail of its log).
    """
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if proc is not None:
            status = exit_status(proc)
            if status is not None:
                raise StartError(_with_tail(f"{_describe_exit(proc, status)} while waiting for {what}", proc))
        if time.monotonic() >= deadline:
            raise StartError(_with_tail(f"timed out after {timeout:g} s waiting for {what}", proc))
        time.sleep(POLL_SECONDS)


def require_executable(name: str, env_var: str, install_hint: str, env: Mapping[str, str] | None = None) -> str:
    """The path of `name` ($env_var if set, else PATH); StartError naming how to install it."""
    env = os.environ if env is None else env
    configured = env.get(env_var)
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise StartError(
            f"{env_var}={configured!r} is not an executable file: point it at {name}, "
            f"or unset it and install {name} with {install_hint}"
        )
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise StartError(f"{name} not found: install it with {install_hint} or set {env_var}")
    return found


def start_process(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path | str,
    log_dir: Path | str,
    ready: Callable[[], bool] | None,
    timeout: float = 30,
    stdin_data: bytes | None = None,
) -> Proc:
    """Start `argv` in a new session with stdout and stderr in <log_dir>/<name>.log.

    Returns once `ready()` is true (or at once when `ready` is None); on any failure the
    process is stopped again before the error propagates, so nothing is left running.
    `stdin_data` is written to the process's stdin (e.g. a config with a password, which
    then never shows in `ps`).
    """
    log = Path(log_dir) / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        popen = subprocess.Popen(  # argv built by this module; no shell
            list(argv),
            env=dict(env),
            cwd=str(cwd),
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc = Proc(name, popen, log)
    try:
        if stdin_data is not None and popen.stdin is not None:
            with popen.stdin:
                popen.stdin.write(stdin_data)
        if ready is not None:
            wait_until(ready, timeout, f"{name} to become ready", proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def _signal_group(proc: Proc, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(proc.pid, signum)


def stop(proc: Proc, timeout: float = 10) -> None:
    """SIGTERM to the process group, SIGKILL after `timeout`; always waits for the process."""
    if exit_status(proc) is None:
        _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while exit_status(proc) is None and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
    # Also ends what is left of the group (e.g. pool processes whose parent was killed).
    _signal_group(proc, signal.SIGKILL)
    proc.popen.wait()


def stop_all(procs: Iterable[Proc], timeout: float = 10) -> None:
    """Stop processes in the reverse order of their start."""
    for proc in reversed(list(procs)):
        stop(proc, timeout)


def logged(log: Path, *texts: str) -> Callable[[], bool]:
    """A readiness check: true once a line holding all `texts` is appended to `log` after this call."""
    try:
        offset = log.stat().st_size
    except FileNotFoundError:
        offset = 0

    def check() -> bool:
        try:
            with open(log, "rb") as handle:
                handle.seek(offset)
                lines = handle.read().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return False
        return any(all(text in line for text in texts) for line in lines)

    return check


def python_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a Python child: the project's src/ on PYTHONPATH and unbuffered output."""
    child = dict(env)
    src = PROJECT_DIR / "src"
    if (src / PACKAGE).is_dir():
        child["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    child["PYTHONUNBUFFERED"] = "1"
    return child


def tcp_accepts(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def load_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (no shell: quotes around a value are removed, nothing else)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def check_env(env: Mapping[str, str]) -> None:
    """StartError naming the first secret or required setting that is missing."""
    for name in SECRETS:
        value = env.get(name, "")
        if not value or value.startswith(PLACEHOLDER):
            raise StartError(
                f"{name} is not set (or still the placeholder from .env.example): "
                "delete .env and run scripts/run to generate secrets, or set it yourself"
            )
    for name in REQUIRED:
        if not env.get(name):
            raise StartError(f"{name} is not set: add it to .env (see .env.example)")


class Stack:
    """The processes of one `devstack` run, started in dependency order."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.procs: list[Proc] = []
        self.lines: list[str] = []

    def start(self, only: Sequence[str]) -> None:
        for component in COMPONENTS:
            if component in only:
                getattr(self, f"_start_{component}")()

    def _start_router(self) -> None:
        port = int(self.env["ROUTER_PORT"]) if self.env.get("ROUTER_PORT") else free_port()
        self.env.update(ROUTER_HOST=self.env.get("ROUTER_HOST") or "127.0.0.1", ROUTER_PORT=str(port))
        # `python -m <package>.router` fills in the config and becomes `crossbar start`.
        argv = [sys.executable, "-m", f"{PACKAGE}.router"]
        ready = lambda: tcp_accepts("127.0.0.1", port)  # noqa: E731
        self.procs.append(start_process("router", argv, python_env(self.env), PROJECT_DIR, self.log_dir, ready, 60))
        self.lines.append(f"router    http://127.0.0.1:{port}/  (open it in a browser)")

    def _start_backend(self) -> None:
        argv = [sys.executable, "-m", f"{PACKAGE}.backend"]
        ready = logged(self.log_dir / "backend.log", "backend ready")
        self.procs.append(start_process("backend", argv, python_env(self.env), PROJECT_DIR, self.log_dir, ready, 30))
        self.lines.append("backend   WAMP component (backend.py), authenticated as 'backend'")

    def wait(self) -> Proc:
        """Block until one of the processes ends (a signal interrupts this); return it."""
        while True:
            for proc in self.procs:
                if exit_status(proc) is not None:
                    return proc
            if hasattr(os, "waitid"):
                # Blocks until any child process ends, without reaping it (see exit_status).
                os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            else:
                time.sleep(0.2)


class Stopped(Exception):  # noqa: N818 (a request to stop, not an error)
    """SIGTERM or SIGHUP arrived."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.devstack", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(COMPONENTS),
        help=f"comma-separated components to start (default: all of {', '.join(COMPONENTS)})",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="where the logs go (default: $DEVSTACK_DIR, else .devstack/ in the project)",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(COMPONENTS))
    if not args.only:
        parser.error(f"--only names nothing to start (choose from {', '.join(COMPONENTS)})")
    if unknown:
        parser.error(f"unknown component(s) {', '.join(unknown)} (choose from {', '.join(COMPONENTS)})")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Start the stack, print where it listens, keep it running until Ctrl-C or SIGTERM."""
    args = _parse(argv)
    env = {**load_env_file(PROJECT_DIR / ".env"), **os.environ}
    log_dir = args.log_dir or Path(env.get("DEVSTACK_DIR") or PROJECT_DIR / ".devstack")
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Explicitly: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stopped)
    stack = Stack(env, log_dir.resolve())
    try:
        check_env(env)
        stack.start(args.only)
        print(f"live-board is running; Ctrl-C stops everything. Logs: {log_dir}/", flush=True)
        for line in stack.lines:
            print(f"  {line}", flush=True)
        ended = stack.wait()
        print(_with_tail(_describe_exit(ended, exit_status(ended) or 0), ended), file=sys.stderr)
        return 1
    except StartError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stopped):
        print("stopping ...", file=sys.stderr, flush=True)
        return 0
    finally:
        stop_all(stack.procs)


if __name__ == "__main__":
    sys.exit(main())
