"""Start the Crossbar router and the backend component (scripts/run, devstack and the tests).

Do not run `crossbar start` on .crossbar/config.json yourself. Crossbar substitutes ``${VAR}``
only in a few fields (WAMP-CRA secrets, tickets) and only *warns* when the variable is unset
(``maybe_from_env`` in crossbar/common/checkconfig.py of https://github.com/crossbario/crossbar;
`crossbar check` still says the config "looks good"). The
HTTP bridge's key and secret are not substituted at all: started directly, the bridge would
accept requests signed with the literal strings "${PUBLISHER_KEY}" and "${PUBLISHER_SECRET}".

So the launcher writes a private runtime node directory (mode 0700, default
.crossbar/run/router-<port>/) whose config.json (mode 0600) has every ``${NAME}`` replaced
from the environment, and refuses to start when one is unset or empty (fail closed). It also
sets the port (and the allowed origins to match) and serves a copy of web/. The secrets stay
on disk only until the router has read them: the runtime config.json is deleted as soon as
the router answers (or has failed to start).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .devstack import Proc, StartError, python_env, require_executable, start_process
from .settings import Settings

PACKAGE = "import_tracker"
CROSSBAR_VERSION = "26.10.1"
AUTOBAHN_JS_REL = Path("node_modules") / "autobahn-browser" / "autobahn.min.js"
READY_LINE = "backend ready"

log = logging.getLogger(__name__)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Crossbar lives in its own virtualenv, installed from its lock: it pins many packages of its own.
CROSSBAR_INSTALL = f"`bash scripts/run` (it installs crossbar=={CROSSBAR_VERSION} from requirements/crossbar.txt)"
AUTOBAHN_HINT = (
    "autobahn.min.js is missing: run `npm ci --prefix web` (scripts/run does) "
    "(package autobahn-browser 22.11.1) "
    "or set AUTOBAHN_JS to the path of an autobahn.min.js."
)


def find_crossbar(project_dir: Path | str, env: Mapping[str, str]) -> str:
    """CROSSBAR_BIN, else the project's .venv-crossbar, else `crossbar` on PATH; fail fast."""
    local = Path(project_dir) / ".venv-crossbar" / "bin" / "crossbar"
    if not env.get("CROSSBAR_BIN") and local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return require_executable("crossbar", "CROSSBAR_BIN", CROSSBAR_INSTALL, env)


def _substitute(value: Any, env: Mapping[str, str], missing: set[str]) -> Any:
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            found = env.get(name)
            if not found:
                missing.add(name)
                return match.group(0)
            return found

        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [_substitute(item, env, missing) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, env, missing) for key, item in value.items()}
    return value


def _with_port(origin: str, port: int) -> str:
    """`origin` with its port replaced (origins without a host and port are left alone)."""
    parts = urlsplit(origin)
    if not parts.hostname or parts.port is None:
        return origin
    return urlunsplit((parts.scheme, f"{parts.hostname}:{port}", parts.path, "", ""))


def _listed(env: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated override from the environment (empty when unset).

    ROUTER_ORIGINS: the exact browser origins when the published port differs from the
    router's (compose); PUBLISHER_ALLOW_FROM: the networks allowed to use the HTTP bridge.
    """
    return [item.strip() for item in env.get(name, "").split(",") if item.strip()]


def _bind_address(env: Mapping[str, str]) -> str | None:
    """The address ROUTER_HOST asks the router to listen on (None: keep the config's 127.0.0.1)."""
    host = env.get("ROUTER_HOST")
    if not host:
        return None
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise StartError(f"ROUTER_HOST={host!r} must be an IP address for the router to listen on") from None
    if not address.is_loopback:
        log.warning("the router listens on %s, not only on loopback: put TLS in front of it", host)
    return str(address)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _copy_web(source: Path, target: Path, env: Mapping[str, str]) -> None:
    """Copy web/ (without node_modules) and put autobahn.min.js where the page loads it."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules"))
    wanted = target / AUTOBAHN_JS_REL
    candidates = [source / AUTOBAHN_JS_REL]
    if env.get("AUTOBAHN_JS"):
        candidates.append(Path(env["AUTOBAHN_JS"]))
    for candidate in candidates:
        if candidate.is_file():
            wanted.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(candidate, wanted)
            return
    raise StartError(AUTOBAHN_HINT)


def _remove_stale(base: Path, min_age: float = 60.0) -> None:
    """Remove runtime dirs of routers that have stopped (Crossbar deletes node.pid when it stops).

    Only dirs older than `min_age` seconds: a router another launcher is starting right now
    has no node.pid yet.
    """
    now = time.time()
    for old in base.glob("router-*"):
        pid_file = old / "node.pid"
        try:
            if now - old.stat().st_mtime < min_age:
                continue
            if pid_file.exists():
                os.kill(int(json.loads(pid_file.read_text(encoding="utf-8"))["pid"]), 0)
                continue  # still running
        except ProcessLookupError:
            pass  # a router that died without cleaning up
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours to judge
        shutil.rmtree(old, ignore_errors=True)


def runtime_config(
    project_dir: Path | str,
    port: int,
    env: Mapping[str, str],
    run_dir: Path | str | None = None,
) -> Path:
    """Write the private runtime node directory for `port` and return its path.

    Every ``${NAME}`` in .crossbar/config.json is replaced from `env` (an unset or empty
    variable is an error that names it), the web transport listens on `port` (and on
    ROUTER_HOST when set, e.g. 0.0.0.0 inside a container), the allowed origins follow that
    port, and the static directory points at a runtime copy of web/.
    """
    project_dir = Path(project_dir).resolve()
    source_dir = project_dir / ".crossbar"
    config = json.loads((source_dir / "config.json").read_text(encoding="utf-8"))

    missing: set[str] = set()
    config = _substitute(config, env, missing)
    if missing:
        names = ", ".join(sorted(missing))
        raise StartError(
            f"refusing to start the router: environment variable(s) {names} not set "
            "(needed by .crossbar/config.json; see .env.example)"
        )

    interface = _bind_address(env)
    base = Path(run_dir) if run_dir is not None else source_dir / "run"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    _remove_stale(base)
    cbdir = base / f"router-{port}"
    if cbdir.exists():
        shutil.rmtree(cbdir)
    cbdir.mkdir(mode=0o700)
    os.chmod(cbdir, 0o700)  # mkdir's mode is filtered by the umask

    statics = 0
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            endpoint = transport.get("endpoint", {})
            if endpoint.get("type") == "tcp":
                # The internal transport (the HTTP bridge) has a port of its own, never the public one.
                internal = transport.get("id") == "internal"
                endpoint["port"] = Settings.from_env(env).router_internal_port if internal else port
                if interface is not None:
                    endpoint["interface"] = interface
                    if ":" in interface:
                        endpoint["version"] = 6
            for service in transport.get("paths", {}).values():
                options = service.get("options", {})
                if service.get("type") == "websocket" and "allowed_origins" in options:
                    shipped = options["allowed_origins"]
                    options["allowed_origins"] = _listed(env, "ROUTER_ORIGINS") or [
                        _with_port(o, port) for o in shipped
                    ]
                if service.get("type") == "publisher" and _listed(env, "PUBLISHER_ALLOW_FROM"):
                    # Inside compose the workers reach the bridge from the compose network.
                    options["require_ip"] = _listed(env, "PUBLISHER_ALLOW_FROM")
                if service.get("type") == "static" and "directory" in service:
                    statics += 1
                    target = cbdir / ("web" if statics == 1 else f"web{statics}")
                    _copy_web((source_dir / service["directory"]).resolve(), target, env)
                    service["directory"] = str(target)

    _write_private(cbdir / "config.json", json.dumps(config, indent=2))
    return cbdir


def router_host(cbdir: Path) -> str:
    """Where to reach the web transport from this machine (from the runtime config)."""
    config = json.loads((Path(cbdir) / "config.json").read_text(encoding="utf-8"))
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            if transport.get("type") == "web":
                interface = str(transport["endpoint"].get("interface", "127.0.0.1"))
                return "127.0.0.1" if interface in ("0.0.0.0", "::") else interface  # noqa: S104
    raise StartError("no web transport in .crossbar/config.json")


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback URL we built)
            status: int = response.status
            return 100 <= status < 600
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the web transport is up
    except OSError:
        return False


def start_router(
    project_dir: Path | str,
    port: int,
    env: Mapping[str, str],
    log_dir: Path | str,
    run_dir: Path | str | None = None,
    timeout: float = 60,
) -> Proc:
    """Run `crossbar start` on a runtime copy of the config; return once HTTP answers on `port`."""
    project_dir = Path(project_dir).resolve()
    crossbar = find_crossbar(project_dir, env)
    cbdir = runtime_config(project_dir, port, env, run_dir)
    host = router_host(cbdir)
    url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    argv = [crossbar, "start", "--cbdir", str(cbdir), "--loglevel", "info", "--color", "false"]
    try:
        return start_process(
            "router",
            argv,
            env=dict(env),
            cwd=str(project_dir),
            log_dir=log_dir,
            ready=lambda: _http_answers(url),
            timeout=timeout,
        )
    finally:
        # The router has read its configuration (or failed): take the secrets off the disk again.
        (cbdir / "config.json").unlink(missing_ok=True)


def start_backend(
    project_dir: Path | str,
    env: Mapping[str, str],
    log_dir: Path | str,
    timeout: float = 30,
) -> Proc:
    """Run `python -m <package>.backend`; return once its log says its procedures are registered."""
    if not env.get("BACKEND_SECRET"):
        raise StartError("refusing to start the backend: BACKEND_SECRET is not set")
    project_dir = Path(project_dir).resolve()
    log = Path(log_dir) / "backend.log"  # where start_process() writes (it appends)
    offset = log.stat().st_size if log.exists() else 0

    def registered() -> bool:
        try:
            with open(log, "rb") as handle:
                handle.seek(offset)
                return READY_LINE.encode() in handle.read()
        except OSError:
            return False

    return start_process(
        "backend",
        [sys.executable, "-m", f"{PACKAGE}.backend"],
        env=python_env(env),
        cwd=str(project_dir),
        log_dir=log_dir,
        ready=registered,
        timeout=timeout,
    )


__all__ = ["find_crossbar", "router_host", "runtime_config", "start_backend", "start_router"]
