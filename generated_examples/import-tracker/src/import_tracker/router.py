"""The router's entry point: fill .crossbar/config.json from the environment, then become Crossbar.

`python -m import_tracker.router` writes a private runtime node directory and replaces
itself (os.execve) with `crossbar start` on it, so Crossbar's own log goes to stdout and signals
reach Crossbar directly: scripts/run, docker compose and the tests all start the router this way.

Why not `crossbar start` on .crossbar/config.json? Crossbar substitutes ``${VAR}`` only in a
few fields (WAMP-CRA secrets, tickets) and only *warns* when the variable is unset
(``maybe_from_env`` in crossbar/common/checkconfig.py of https://github.com/crossbario/crossbar),
and the HTTP bridge's key and secret are not substituted at all. So every ``${NAME}`` is filled
in here, and an unset, empty or placeholder ("replace-with-...") value stops the start (fail
closed). The runtime directory (mode 0700, default .crossbar/run/router-<port>/) also gets:

- the ports: the transport with id "public" listens on ROUTER_PORT, the one with id "internal"
  on ROUTER_INTERNAL_PORT (unset: the port in .crossbar/config.json), on ROUTER_HOST when set
  (e.g. 0.0.0.0 in a container); the allowed origins follow the public port, or ROUTER_ORIGINS;
- a copy of web/ with autobahn.min.js;
- with ROUTER_PROXIES=N (N >= 1), N Crossbar proxy workers that serve the public transport
  (the page and WebSocket) on the same port and forward WAMP to the router worker over a Unix
  socket inside the private directory
  (https://github.com/crossbario/crossbar/blob/master/docs/Proxy-Workers.rst).

On Linux the filled-in config never touches the disk: config.json is a link to an in-memory
file that only the router's process holds; elsewhere it is a 0600 file. The variables it uses
are removed from Crossbar's environment.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .settings import PLACEHOLDER

PACKAGE = "import_tracker"
CROSSBAR_VERSION = "26.10.1"
PROJECT_DIR = Path(__file__).resolve().parents[2]
AUTOBAHN_JS_REL = Path("node_modules") / "autobahn-browser" / "autobahn.min.js"
# Which environment variable sets the port of each transport (by the transport's "id").
PORT_VARS = {"public": "ROUTER_PORT", "internal": "ROUTER_INTERNAL_PORT"}
MAX_PROXIES = 64
# The role whose rights a proxy worker calls the dynamic authenticator with (.crossbar/config.json).
PROXY_AUTHENTICATOR_ROLE = "backend"
MAX_SOCKET_PATH = 100  # bytes; Linux allows 107 in a Unix socket address, macOS 103

log = logging.getLogger(__name__)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Crossbar lives in its own virtualenv, installed from its lock: it pins many packages of its own.
CROSSBAR_INSTALL = f"`bash scripts/run` (it installs crossbar=={CROSSBAR_VERSION} from requirements/crossbar.txt)"
AUTOBAHN_HINT = (
    "autobahn.min.js is missing: run `npm ci --prefix web` (scripts/run does) "
    "(package autobahn-browser 22.11.1) "
    "or set AUTOBAHN_JS to the path of an autobahn.min.js."
)


class StartError(RuntimeError):
    """The router cannot start with this environment; the message says why."""


def find_crossbar(project_dir: Path | str, env: Mapping[str, str]) -> str:
    """CROSSBAR_BIN, else the project's .venv-crossbar, else `crossbar` on PATH; fail fast."""
    configured = env.get("CROSSBAR_BIN")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise StartError(f"CROSSBAR_BIN={configured!r} is not an executable file: point it at crossbar or unset it")
    local = Path(project_dir) / ".venv-crossbar" / "bin" / "crossbar"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("crossbar", path=env.get("PATH", os.defpath))
    if found is None:
        raise StartError(f"crossbar not found: install it with {CROSSBAR_INSTALL} or set CROSSBAR_BIN")
    return found


def _substitute(value: Any, env: Mapping[str, str], used: set[str], refused: set[str]) -> Any:
    """`value` with every ${NAME} replaced from `env`; unusable names go to `refused`."""
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            used.add(name)
            found = env.get(name, "")
            if not found or found.startswith(PLACEHOLDER):
                refused.add(name)
                return match.group(0)
            return found

        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [_substitute(item, env, used, refused) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, env, used, refused) for key, item in value.items()}
    return value


def _port(env: Mapping[str, str], name: str, shipped: int) -> int:
    raw = env.get(name) or str(shipped)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise StartError(f"{name}={raw!r} is not a TCP port (1..65535)")
    return int(raw)


def _with_port(origin: str, port: int) -> str:
    """`origin` with its port replaced (origins without a host and port are left alone)."""
    parts = urlsplit(origin)
    if not parts.hostname or parts.port is None:
        return origin
    return urlunsplit((parts.scheme, f"{parts.hostname}:{port}", parts.path, "", ""))


def _listed(env: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated override from the environment (empty when unset).

    ROUTER_ORIGINS: the exact browser origins when the published port differs from the
    router's (compose, a TLS proxy); PUBLISHER_ALLOW_FROM: the networks allowed to use the
    HTTP bridge.
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


def _proxy_count(env: Mapping[str, str]) -> int:
    raw = env.get("ROUTER_PROXIES") or "0"
    if not raw.isdigit() or int(raw) > MAX_PROXIES:
        raise StartError(f"ROUTER_PROXIES={raw!r} must be a whole number from 0 to {MAX_PROXIES}")
    return int(raw)


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


def _transports(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [transport for worker in config.get("workers", []) for transport in worker.get("transports", [])]


def _place(config: dict[str, Any], env: Mapping[str, str]) -> int:
    """Set each TCP transport's port and interface, and the origins; return the public port."""
    interface = _bind_address(env)
    ports = {}
    for transport in _transports(config):
        endpoint = transport.get("endpoint", {})
        if endpoint.get("type") != "tcp":
            continue
        name = transport.get("id")
        if name not in PORT_VARS:
            raise StartError(f"a TCP transport in .crossbar/config.json needs an id, one of {sorted(PORT_VARS)}")
        endpoint["port"] = ports[name] = _port(env, PORT_VARS[name], int(endpoint.get("port", 0)))
        if interface is not None:
            endpoint["interface"] = interface
            if ":" in interface:
                endpoint["version"] = 6
        for service in transport.get("paths", {}).values():
            options = service.get("options", {})
            if service.get("type") == "websocket" and "allowed_origins" in options:
                shipped = options["allowed_origins"]
                options["allowed_origins"] = _listed(env, "ROUTER_ORIGINS") or [
                    _with_port(o, endpoint["port"]) for o in shipped
                ]
            if service.get("type") == "publisher" and _listed(env, "PUBLISHER_ALLOW_FROM"):
                # Inside compose the workers reach the bridge from the compose network.
                options["require_ip"] = _listed(env, "PUBLISHER_ALLOW_FROM")
    if "public" not in ports:
        raise StartError('no TCP transport with id "public" in .crossbar/config.json')
    if len(set(ports.values())) < len(ports):
        raise StartError(f"the router's transports need different ports, not {ports}")
    return ports["public"]


def _serve_web(config: dict[str, Any], source_dir: Path, cbdir: Path, env: Mapping[str, str]) -> None:
    """Point every static service at a runtime copy of its directory (one copy per directory)."""
    copies: dict[Path, Path] = {}
    for transport in _transports(config):
        for service in transport.get("paths", {}).values():
            if service.get("type") == "static" and "directory" in service:
                source = (source_dir / service["directory"]).resolve()
                if source not in copies:
                    copies[source] = cbdir / ("web" if not copies else f"web{len(copies) + 1}")
                    _copy_web(source, copies[source], env)
                service["directory"] = str(copies[source])


def _authenticate_as(transport: dict[str, Any], role: str) -> None:
    """Give the transport's dynamic authenticators a role to call them with.

    In the router worker the call comes from Crossbar's own trusted session; a proxy worker has
    none and calls through its connection to the router worker, as this role.
    """
    for service in transport.get("paths", {}).values():
        for method in service.get("auth", {}).values():
            if method.get("type") == "dynamic":
                method.setdefault("authenticator-role", role)


def _add_proxies(config: dict[str, Any], count: int, cbdir: Path) -> None:
    """Move the public transport into `count` proxy workers that forward to the router worker.

    The proxies share the public port (the kernel spreads connections over them), do the
    WebSocket, origin checks and authentication, and forward each session, with the role it
    was given, over a Unix socket in the private runtime directory. That socket trusts what
    the proxies forward ("anonymous-proxy", which Crossbar allows on Unix sockets only), so only
    this user can reach it (the directory is 0700).
    """
    router = next(worker for worker in config["workers"] if worker.get("type") == "router")
    public = next(transport for transport in router["transports"] if transport.get("id") == "public")
    router["transports"].remove(public)
    path = str(cbdir / "router.sock")
    if len(path.encode()) > MAX_SOCKET_PATH:
        raise StartError(f"the router's socket path {path} is too long for Unix sockets: pass a shorter --run-dir")
    socket = {"type": "unix", "path": path}
    trust_proxies = {"anonymous-proxy": {"type": "static"}}
    router["transports"].append(
        {"type": "rawsocket", "id": "proxied", "endpoint": socket, "serializers": ["cbor"], "auth": trust_proxies}
    )
    routes = {
        realm["name"]: {role["name"]: "router" for role in realm.get("roles", [])} for realm in router.get("realms", [])
    }
    for number in range(1, count + 1):
        transport = copy.deepcopy(public)
        transport["endpoint"]["shared"] = True  # SO_REUSEPORT: every proxy accepts on the same port
        _authenticate_as(transport, PROXY_AUTHENTICATOR_ROLE)
        config["workers"].append(
            {
                "type": "proxy",
                "id": f"proxy{number}",
                "transports": [transport],
                "connections": {
                    "router": {
                        "transport": {"type": "rawsocket", "endpoint": socket, "serializer": "cbor"},
                        "auth": trust_proxies,
                    }
                },
                "routes": routes,
            }
        )


def build(
    project_dir: Path | str, env: Mapping[str, str], run_dir: Path | str | None = None
) -> tuple[Path, dict[str, Any], set[str]]:
    """Make the runtime node directory; return it, the filled-in config and the variables it used.

    The config is not written yet (see runtime_config() and main()).
    """
    project_dir = Path(project_dir).resolve()
    source_dir = project_dir / ".crossbar"
    config = json.loads((source_dir / "config.json").read_text(encoding="utf-8"))

    used: set[str] = set()
    refused: set[str] = set()
    config = _substitute(config, env, used, refused)
    if refused:
        names = ", ".join(sorted(refused))
        raise StartError(
            f"refusing to start the router: environment variable(s) {names} not set, empty or still "
            f"a {PLACEHOLDER}... placeholder (needed by .crossbar/config.json; see .env.example)"
        )
    port = _place(config, env)
    proxies = _proxy_count(env)

    base = Path(run_dir) if run_dir is not None else source_dir / "run"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    cbdir = base / f"router-{port}"
    if cbdir.exists():
        shutil.rmtree(cbdir)
    cbdir.mkdir(mode=0o700)
    os.chmod(cbdir, 0o700)  # mkdir's mode is filtered by the umask
    _serve_web(config, source_dir, cbdir, env)
    if proxies:
        _add_proxies(config, proxies, cbdir)
    return cbdir, config, used


def runtime_config(project_dir: Path | str, env: Mapping[str, str], run_dir: Path | str | None = None) -> Path:
    """Write the runtime node directory with config.json as a 0600 file (e.g. for `crossbar check`)."""
    cbdir, config, _ = build(project_dir, env, run_dir)
    fd = os.open(cbdir / "config.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    return cbdir


def _config_for_exec(cbdir: Path, config: dict[str, Any]) -> None:
    """config.json for the process about to exec Crossbar: in memory where the OS allows.

    An anonymous memory file (memfd) stays open across exec, and /proc/self/fd/N names it for
    the process that holds it: the secrets are never written to disk and vanish with the router.
    """
    text = json.dumps(config, indent=2).encode("utf-8")
    if not hasattr(os, "memfd_create"):  # not Linux: a file only this user can read
        fd = os.open(cbdir / "config.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
        return
    fd = os.memfd_create("crossbar-config", 0)  # no MFD_CLOEXEC: Crossbar inherits it
    with open(fd, "wb", closefd=False) as handle:
        handle.write(text)
    (cbdir / "config.json").symlink_to(f"/proc/self/fd/{fd}")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PACKAGE}.router",
        description="Fill .crossbar/config.json from the environment and run `crossbar start` on it.",
    )
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="where to make the runtime node directory (default .crossbar/run)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Prepare the runtime node directory, then exec Crossbar (does not return unless it fails)."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    env = dict(os.environ)
    try:
        crossbar = find_crossbar(PROJECT_DIR, env)
        cbdir, config, used = build(PROJECT_DIR, env, args.run_dir)
    except StartError as exc:
        sys.exit(f"{PACKAGE}.router: {exc}")
    _config_for_exec(cbdir, config)
    # Crossbar reads the secrets from its config; it needs none of them in its environment.
    crossbar_env = {name: value for name, value in env.items() if name not in used}
    command = [crossbar, "start", "--cbdir", str(cbdir), "--loglevel", "info", "--color", "false"]
    os.execve(crossbar, command, crossbar_env)  # noqa: S606 (no shell: the arguments are ours)


if __name__ == "__main__":
    main()
