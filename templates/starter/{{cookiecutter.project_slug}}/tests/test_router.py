"""The Crossbar router, its configuration and the backend component, tested for real.

The router, the backend and the clients run on 127.0.0.1 (see router_fixtures.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

from {{ cookiecutter.package_name }} import router as launcher
from {{ cookiecutter.package_name }}.devstack import StartError, free_port, python_env
from router_fixtures import (
    PACKAGE,
    PROJECT_DIR,
    WAMP_TIMEOUT,
    RouterStack,
    make_stack_env,
    run_async,
    wamp_session,
)

CONFIG = PROJECT_DIR / ".crossbar" / "config.json"
PUBLIC = f"{PACKAGE}.public."
NOT_AUTHORIZED = "wamp.error.not_authorized"


def load_config() -> dict:
    return json.loads(CONFIG.read_text(encoding="utf-8"))


def web_transports(config: dict) -> list[dict]:
    return [t for w in config["workers"] for t in w.get("transports", []) if t["type"] == "web"]


def roles(config: dict) -> dict[str, list[dict]]:
    return {
        role["name"]: role.get("permissions", [])
        for worker in config["workers"]
        for realm in worker.get("realms", [])
        for role in realm.get("roles", [])
    }


def crossbar_check(crossbar_bin: str, cbdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [crossbar_bin, "check", "--cbdir", str(cbdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- the configuration -----------------------------------------------------------------------


def test_crossbar_check_accepts_shipped_config(crossbar_bin: str) -> None:
    """`crossbar check` (the router's own schema checker) accepts .crossbar/config.json."""
    result = crossbar_check(crossbar_bin, CONFIG.parent, make_stack_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "looks good" in result.stdout


def test_crossbar_check_accepts_runtime_config(crossbar_bin: str, tmp_path: Path) -> None:
    """The launcher's runtime config (secrets, port and origins filled in) also passes `crossbar check`."""
    env = make_stack_env()
    cbdir = launcher.runtime_config(PROJECT_DIR, int(env["ROUTER_PORT"]), env, run_dir=tmp_path)
    result = crossbar_check(crossbar_bin, cbdir, env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_anonymous_wildcard_role() -> None:
    """No role may act on every URI (the `crossbar init` default): each grant is under the package prefix."""
    for name, permissions in roles(load_config()).items():
        assert permissions, f"role {name} has no static permissions"
        for grant in permissions:
            assert grant["uri"].startswith(f"{PACKAGE}."), (name, grant)
            assert grant.get("match") == "prefix", (name, grant)


def test_browser_role_is_least_privilege() -> None:
    """The anonymous browser role may only call and subscribe under <package>.public., callers undisclosed."""
    config = load_config()
    (ws,) = [svc for t in web_transports(config) for svc in t["paths"].values() if svc["type"] == "websocket"]
    assert ws["auth"]["anonymous"]["role"] == "browser"
    (grant,) = roles(config)["browser"]
    assert grant["uri"] == PUBLIC
    assert grant["allow"] == {"call": True, "subscribe": True, "register": False, "publish": False}
    assert grant["disclose"]["caller"] is False


def test_backend_secret_comes_from_environment() -> None:
    """WAMP-CRA and bridge secrets are ${VAR} placeholders, never literal values in the file."""
    config = load_config()
    (ws,) = [svc for t in web_transports(config) for svc in t["paths"].values() if svc["type"] == "websocket"]
    assert ws["auth"]["wampcra"]["users"] == {"backend": {"secret": "${BACKEND_SECRET}", "role": "backend"}}
    for svc in (s for t in web_transports(config) for s in t["paths"].values() if s["type"] == "publisher"):
        assert svc["options"]["key"] == "${PUBLISHER_KEY}"
        assert svc["options"]["secret"] == "${PUBLISHER_SECRET}"
        assert svc["options"]["require_ip"] == ["127.0.0.1"]


def test_loopback_exact_origins_and_no_listing() -> None:
    """Every endpoint binds 127.0.0.1, origins are exact (no "*", no null) and directory listing is off."""
    config = load_config()
    for transport in (t for w in config["workers"] for t in w.get("transports", [])):
        assert transport["endpoint"]["interface"] == "127.0.0.1", transport["endpoint"]
    for svc in (s for t in web_transports(config) for s in t["paths"].values()):
        if svc["type"] == "websocket":
            options = svc["options"]
            assert options["allowed_origins"] == ["http://127.0.0.1:8080", "http://localhost:8080"]
            assert options["allow_null_origin"] is False
            assert options["max_message_size"] == options["max_frame_size"] == 1024 * 1024
        if svc["type"] == "static":
            assert svc["options"]["enable_directory_listing"] is False


# --- the launcher ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_launcher_refuses_without_backend_secret(crossbar_bin: str, tmp_path: Path, value: str | None) -> None:
    """With BACKEND_SECRET unset or empty the launcher names it and starts nothing (fail closed)."""
    env = make_stack_env()
    env["CROSSBAR_BIN"] = crossbar_bin
    if value is None:
        del env["BACKEND_SECRET"]
    else:
        env["BACKEND_SECRET"] = value
    port = int(env["ROUTER_PORT"])
    with pytest.raises(StartError, match="BACKEND_SECRET"):
        launcher.start_router(PROJECT_DIR, port, env, tmp_path / "logs", run_dir=tmp_path / "run")
    assert not (tmp_path / "logs").exists(), "no process may have been started"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "nothing may listen on the port"


def test_runtime_config_is_private_and_filled_in(tmp_path: Path) -> None:
    """The runtime node dir is 0700 with a 0600 config: secrets substituted, port/origins rewritten, web copied."""
    env = make_stack_env()
    port = int(env["ROUTER_PORT"])
    cbdir = launcher.runtime_config(PROJECT_DIR, port, env, run_dir=tmp_path)
    assert stat.S_IMODE(cbdir.stat().st_mode) == 0o700
    assert stat.S_IMODE((cbdir / "config.json").stat().st_mode) == 0o600
    text = (cbdir / "config.json").read_text(encoding="utf-8")
    assert "${" not in text
    assert env["BACKEND_SECRET"] in text
    (transport,) = web_transports(json.loads(text))
    assert transport["endpoint"] == {"type": "tcp", "port": port, "interface": "127.0.0.1"}
    paths = transport["paths"]
    assert paths["ws"]["options"]["allowed_origins"] == [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    static = Path(paths["/"]["directory"])
    assert static.is_absolute() and (static / "index.html").is_file()
    assert (static / launcher.AUTOBAHN_JS_REL).is_file()


def test_runtime_config_removes_only_stopped_routers_dirs(tmp_path: Path) -> None:
    """Old runtime dirs of stopped routers are removed; a running router's dir (live node.pid) is kept."""
    stopped, running = tmp_path / "router-1", tmp_path / "router-2"
    for old in (stopped, running):
        old.mkdir()
    (running / "node.pid").write_text(json.dumps({"pid": os.getpid()}), encoding="utf-8")
    for old in (stopped, running):
        os.utime(old, (0, 0))
    env = make_stack_env()
    launcher.runtime_config(PROJECT_DIR, int(env["ROUTER_PORT"]), env, run_dir=tmp_path)
    assert not stopped.exists()
    assert running.exists()


def test_runtime_config_listens_where_router_host_says(tmp_path: Path) -> None:
    """ROUTER_HOST picks the listening address (0.0.0.0 in a container); unset keeps 127.0.0.1; a name is refused."""

    def interface(host: str | None) -> str:
        env = make_stack_env()
        env.pop("ROUTER_HOST")
        if host is not None:
            env["ROUTER_HOST"] = host
        cbdir = launcher.runtime_config(PROJECT_DIR, int(env["ROUTER_PORT"]), env, run_dir=tmp_path)
        (transport,) = web_transports(json.loads((cbdir / "config.json").read_text(encoding="utf-8")))
        return transport["endpoint"]["interface"]

    assert interface(None) == "127.0.0.1"
    assert interface("localhost") == "127.0.0.1"
    assert interface("0.0.0.0") == "0.0.0.0"  # noqa: S104
    with pytest.raises(StartError, match="ROUTER_HOST"):
        interface("router.example")


def test_running_router_keeps_no_secrets_on_disk_or_in_logs(backend: RouterStack) -> None:
    """Once the router runs its runtime config is deleted, and no log contains a secret."""
    assert stat.S_IMODE(backend.cbdir.stat().st_mode) == 0o700
    assert not (backend.cbdir / "config.json").exists()
    secrets_in_use = [backend.env[k] for k in ("BACKEND_SECRET", "PUBLISHER_SECRET") if k in backend.env]
    for log in backend.log_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        for secret in secrets_in_use:
            assert secret not in text, f"a secret leaked into {log.name}"


# --- the running router ----------------------------------------------------------------------


def _handshake_status(port: int, origin: str) -> str:
    request = (
        "GET /ws HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: wamp.2.json\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=WAMP_TIMEOUT) as conn:
        conn.sendall(request.encode("ascii"))
        return conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_router_refuses_foreign_origin(router: RouterStack) -> None:
    """A WebSocket handshake from another origin (or the null origin) is refused; the page's origin is accepted."""
    assert " 101 " in _handshake_status(router.port, f"http://localhost:{router.port}")
    for origin in ("http://evil.example", f"http://127.0.0.1:{router.port + 1}", "null"):
        status = _handshake_status(router.port, origin)
        assert " 101 " not in status, f"{origin} was accepted: {status}"


def test_static_files_served_without_directory_listing(router: RouterStack) -> None:
    """The router serves the page and autobahn.min.js, but lists no directory."""
    with urllib.request.urlopen(router.http_url, timeout=5) as response:
        assert b'id="hello"' in response.read()
    with urllib.request.urlopen(router.http_url + launcher.AUTOBAHN_JS_REL.as_posix(), timeout=5) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(router.http_url + "node_modules/autobahn-browser/", timeout=5)
    assert refused.value.code == 404


def test_browser_role_calls_hello_and_receives_event(backend: RouterStack) -> None:
    """An anonymous client gets role browser, calls <pkg>.public.hello and receives the event it publishes."""

    async def scenario() -> tuple[str, str, dict]:
        async with wamp_session(backend.ws_url) as session:
            received: asyncio.Future = asyncio.get_running_loop().create_future()
            await session.subscribe(
                lambda event: received.done() or received.set_result(event), f"{PUBLIC}events"
            )
            greeting = await session.call(f"{PUBLIC}hello", "python")
            event = await asyncio.wait_for(received, WAMP_TIMEOUT)
            return session.join_details.authrole, greeting, event

    authrole, greeting, event = run_async(scenario())
    assert authrole == "browser"
    assert greeting.startswith("Hello, python! (call #")
    assert event["greeting"] == greeting
    assert event["kind"] == "hello"


def test_hello_rejects_bad_arguments(backend: RouterStack) -> None:
    """The backend validates RPC arguments and answers with an application error, not a crash."""

    async def scenario() -> str:
        async with wamp_session(backend.ws_url) as session:
            with pytest.raises(ApplicationError) as bad:
                await session.call(f"{PUBLIC}hello", "x" * 1000)
            return bad.value.error

    assert run_async(scenario()) == f"{PACKAGE}.error.invalid_argument"


def test_browser_role_denied_register_publish_and_private_uris(backend: RouterStack) -> None:
    """The router itself refuses the browser role register, publish and calls outside <pkg>.public."""

    async def scenario() -> list[str]:
        errors = []
        async with wamp_session(backend.ws_url) as session:
            attempts = [
                session.register(lambda: "fake", f"{PUBLIC}hello_fake"),
                session.publish(f"{PUBLIC}events", {"greeting": "forged"}, options=PublishOptions(acknowledge=True)),
                session.call(f"{PACKAGE}.internal.anything"),
                session.subscribe(lambda *a: None, f"{PACKAGE}.internal.events"),
            ]
            for attempt in attempts:
                try:
                    await asyncio.wait_for(attempt, WAMP_TIMEOUT)
                except ApplicationError as exc:
                    errors.append(exc.error)
                else:
                    errors.append("allowed")
        return errors

    assert run_async(scenario()) == [NOT_AUTHORIZED] * 4


def test_backend_role_needs_the_secret(router: RouterStack) -> None:
    """WAMP-CRA as backend succeeds with BACKEND_SECRET and is refused with a wrong secret."""

    async def join(secret: str) -> str:
        async with wamp_session(router.ws_url, authid="backend", secret=secret) as session:
            return session.join_details.authrole

    assert run_async(join(router.env["BACKEND_SECRET"])) == "backend"
    with pytest.raises(PermissionError, match="not_authorized|authentication_failed"):
        run_async(join("wrong-" + router.env["BACKEND_SECRET"]))


def _backend_cmd() -> list[str]:
    return [sys.executable, "-m", f"{PACKAGE}.backend"]


def test_backend_refuses_to_start_without_secret() -> None:
    """`python -m <pkg>.backend` without BACKEND_SECRET exits at once with a message naming it."""
    env = python_env(make_stack_env())
    del env["BACKEND_SECRET"]
    result = subprocess.run(_backend_cmd(), env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0
    assert "BACKEND_SECRET" in result.stderr


def test_backend_gives_up_when_router_is_down() -> None:
    """With no router listening the backend stops retrying after BACKEND_MAX_RETRIES and exits non-zero."""
    env = python_env(make_stack_env())
    env.update(ROUTER_PORT=str(free_port()), BACKEND_MAX_RETRIES="1")
    result = subprocess.run(_backend_cmd(), env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "backend ready" not in result.stdout
