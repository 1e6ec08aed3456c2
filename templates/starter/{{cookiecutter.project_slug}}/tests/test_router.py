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
from typing import Any

import psutil  # type: ignore[import-untyped]  # (no stubs installed; only Process is used)
import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallDetails, PublishOptions, RegisterOptions

from {{ cookiecutter.package_name }} import router as launcher

from router_fixtures import (
    PACKAGE,
    PROJECT_DIR,
    WAMP_TIMEOUT,
    ClientSession,
    RouterStack,
    free_port,
    make_stack_env,
    other_local_addresses,
    resolve_once,
    run_async,
    wamp_session,
)

CONFIG = PROJECT_DIR / ".crossbar" / "config.json"
PUBLIC = f"{PACKAGE}.public."
NOT_AUTHORIZED = "wamp.error.not_authorized"


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(CONFIG.read_text(encoding="utf-8"))
    return config


def web_transports(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for w in config["workers"] for t in w.get("transports", []) if t["type"] == "web"]


def roles(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        role["name"]: role.get("permissions", [])
        for worker in config["workers"]
        for realm in worker.get("realms", [])
        for role in realm.get("roles", [])
    }


def crossbar_check(crossbar_bin: str, cbdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
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
    cbdir = launcher.runtime_config(PROJECT_DIR, env, run_dir=tmp_path)
    result = crossbar_check(crossbar_bin, cbdir, env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_anonymous_wildcard_role() -> None:
    """No role may act on every URI (the `crossbar init` default): each grant is under the package prefix."""
    assert sorted(roles(load_config())) == ["backend", "browser"]
    for name, permissions in roles(load_config()).items():
        assert permissions, f"role {name} has no static permissions"
        for grant in permissions:
            assert grant["uri"].startswith(f"{PACKAGE}."), (name, grant)
            assert grant.get("match") == "prefix", (name, grant)


# --- the launcher ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "replace-with-a-long-random-secret"])
def test_launcher_refuses_without_backend_secret(crossbar_bin: str, tmp_path: Path, value: str | None) -> None:
    """`python -m <pkg>.router` with BACKEND_SECRET unset, empty or the .env.example placeholder names it and exits."""
    env = make_stack_env()
    env["CROSSBAR_BIN"] = crossbar_bin
    if value is None:
        del env["BACKEND_SECRET"]
    else:
        env["BACKEND_SECRET"] = value
    port = int(env["ROUTER_PORT"])
    command = [sys.executable, "-m", f"{PACKAGE}.router", "--run-dir", str(tmp_path / "run")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "BACKEND_SECRET" in result.stderr
    assert not (tmp_path / "run").exists(), "no runtime directory may have been made"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "nothing may listen on the port"


def test_runtime_config_is_private_and_filled_in(tmp_path: Path) -> None:
    """The runtime node dir is 0700 with a 0600 config: secrets substituted, port/origins rewritten, web copied."""
    env = make_stack_env()
    port = int(env["ROUTER_PORT"])
    cbdir = launcher.runtime_config(PROJECT_DIR, env, run_dir=tmp_path)
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


def test_runtime_config_listens_where_router_host_says(tmp_path: Path) -> None:
    """ROUTER_HOST picks the listening address (0.0.0.0 in a container); unset keeps 127.0.0.1; a name is refused."""

    def interface(host: str | None) -> str:
        env = make_stack_env()
        env.pop("ROUTER_HOST", None)
        if host is not None:
            env["ROUTER_HOST"] = host
        cbdir = launcher.runtime_config(PROJECT_DIR, env, run_dir=tmp_path)
        (transport,) = web_transports(json.loads((cbdir / "config.json").read_text(encoding="utf-8")))
        return str(transport["endpoint"]["interface"])

    assert interface(None) == "127.0.0.1"
    assert interface("localhost") == "127.0.0.1"
    assert interface("0.0.0.0") == "0.0.0.0"  # noqa: S104
    with pytest.raises(launcher.StartError, match="ROUTER_HOST"):
        interface("router.example")


def test_running_router_keeps_no_secrets_on_disk_in_its_environment_or_logs(backend: RouterStack) -> None:
    """The running router's secrets are in no file of its 0700 runtime dir, no router process's environment, no log.

    (config.json links to an in-memory file that only the router's process holds.)
    """
    assert stat.S_IMODE(backend.cbdir.stat().st_mode) == 0o700
    assert (backend.cbdir / "config.json").is_symlink()
    names = ("BACKEND_SECRET", "PUBLISHER_KEY", "PUBLISHER_SECRET")
    secrets_in_use = [backend.env[name] for name in names if name in backend.env]
    files = [path for path in backend.cbdir.rglob("*") if path.is_file() and not path.is_symlink()]
    logs = list(backend.log_dir.glob("*.log"))
    assert files and logs
    for path in files + logs:
        text = path.read_text(errors="replace")
        for secret in secrets_in_use:
            assert secret not in text, f"a secret is in {path}"
    assert backend.proc.process is not None
    controller = psutil.Process(backend.proc.process.pid)
    processes = [controller, *controller.children(recursive=True)]
    assert len(processes) >= 2, "Crossbar's controller and its router worker"
    for process in processes:
        environment = "\n".join(process.environ().values())
        for secret in secrets_in_use:
            assert secret not in environment, f"a secret is in the environment of {process.name()}"


def test_router_entry_point_becomes_crossbar(router: RouterStack) -> None:
    """`python -m <pkg>.router` replaces itself with Crossbar: the pid a supervisor signals is Crossbar's own.

    Nothing sits between the process that started it (this test) and Crossbar's controller,
    whose log (Crossbar's own lines) is the process's output.
    """
    assert router.proc.process is not None
    pid = router.proc.process.pid
    node = json.loads((router.cbdir / "node.pid").read_text(encoding="utf-8"))  # written by Crossbar
    assert node["pid"] == pid
    assert psutil.Process(pid).parent().pid == os.getpid()
    assert "[Controller" in (router.log_dir / "router.log").read_text(encoding="utf-8", errors="replace")


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


def _connects(address: str, port: int) -> bool:
    """Does a TCP connection to address:port succeed?"""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        return probe.connect_ex((address, port)) == 0


def test_router_listens_on_loopback_only(router: RouterStack) -> None:
    """The running router is reachable on 127.0.0.1 only: not on this machine's other addresses.

    Each address is first shown to be reachable (a listener of this test bound to it answers),
    so a router that listened on every interface would fail here.
    """
    assert _connects("127.0.0.1", router.port)
    checked = []
    for address in other_local_addresses():
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as control:
            control.bind((address, 0))
            control.listen()
            if not _connects(address, control.getsockname()[1]):
                continue  # not reachable here at all: proves nothing about the router
        checked.append(address)
        assert not _connects(address, router.port), f"the router accepts connections on {address}"
    assert checked, f"no address other than 127.0.0.1 to test from (tried {other_local_addresses()})"


def test_router_refuses_foreign_origin(router: RouterStack) -> None:
    """A WebSocket handshake from another origin (or the null origin) is refused; the page's origins are accepted."""
    for origin in (f"http://localhost:{router.port}", f"http://127.0.0.1:{router.port}"):
        status = _handshake_status(router.port, origin)
        assert " 101 " in status, f"{origin} was refused: {status}"
    foreign = ("http://evil.example", f"http://127.0.0.1:{router.port + 1}", f"https://localhost:{router.port}", "null")
    for origin in foreign:
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


def test_router_drops_a_client_that_sends_an_oversized_message(backend: RouterStack) -> None:
    """A WAMP message over the router's 1 MiB limit ends that client's connection; smaller ones pass."""

    async def scenario() -> tuple[str, BaseException | None, bool]:
        async with wamp_session(backend.ws_url) as session:
            small: str = await session.call(f"{PUBLIC}hello", "small")
            try:
                await asyncio.wait_for(session.call(f"{PUBLIC}hello", "x" * (2 * 1024 * 1024)), WAMP_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 (what a lost transport raises differs by Autobahn version)
                error: BaseException | None = exc
            else:
                error = None
            return small, error, session.is_attached()

    small, error, attached = run_async(scenario())
    assert small.startswith("Hello, small!")
    assert error is not None and not isinstance(error, TimeoutError), f"the oversized call ended with {error!r}"
    assert not attached


def test_browser_role_calls_hello_and_receives_event(backend: RouterStack) -> None:
    """An anonymous client gets role browser, calls <pkg>.public.hello and receives the event it publishes."""

    async def scenario() -> tuple[str, str, dict[str, Any]]:
        async with wamp_session(backend.ws_url) as session:
            received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            await session.subscribe(resolve_once(received), f"{PUBLIC}events")
            greeting: str = await session.call(f"{PUBLIC}hello", "python")
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
            error: str = bad.value.error
            return error

    assert run_async(scenario()) == f"{PACKAGE}.error.invalid_argument"


def test_browser_role_is_least_privilege(backend: RouterStack) -> None:
    """The running router lets the anonymous browser role call and subscribe under <pkg>.public., nothing more.

    A session with the backend's secret registers a backend-only procedure and a public one
    that reports who called it. The browser may call the public one, which does not learn
    who the caller is; everything else it tries is refused by the router. (The backend role
    does call the backend-only procedure: the browser's refusal is its role's, not a missing
    procedure.)
    """
    private_procedure = f"{PACKAGE}.internal.probe"
    private_topic = f"{PACKAGE}.internal.events"
    who_called = f"{PUBLIC}who_called"

    async def scenario() -> tuple[str, Any, dict[str, str], str]:
        secret = backend.env["BACKEND_SECRET"]
        async with wamp_session(backend.ws_url, authid="backend", secret=secret) as service:
            await service.register(lambda: "internal", private_procedure)
            await service.register(caller_of, who_called, options=RegisterOptions(details_arg="details"))
            async with wamp_session(backend.ws_url) as browser:
                caller = await browser.call(who_called)
                refused = await _attempts(browser, private_procedure, private_topic)
                role: str = browser.join_details.authrole
            internal: str = await service.call(private_procedure)  # the backend role may
        return role, caller, refused, internal

    role, caller, refused, internal = run_async(scenario())
    assert role == "browser"
    assert caller is None, "the callee learned the browser's session id"
    assert internal == "internal"
    assert refused, "no denied action was tried"
    assert refused == dict.fromkeys(refused, NOT_AUTHORIZED)


def caller_of(details: CallDetails) -> Any:
    """A procedure that answers with the caller's session id, as the router disclosed it."""
    return details.caller


async def _attempts(browser: ClientSession, private_procedure: str, private_topic: str) -> dict[str, str]:
    """What the router answered to each thing the browser role may not do: an error URI, or "allowed"."""
    acknowledged = PublishOptions(acknowledge=True)
    attempts = {
        "register a procedure": browser.register(lambda: "forged", f"{PUBLIC}forged"),
        "publish on a public topic": browser.publish(f"{PUBLIC}events", {"forged": 1}, options=acknowledged),
        "publish on a private topic": browser.publish(private_topic, {"forged": 1}, options=acknowledged),
        "call a backend-only procedure": browser.call(private_procedure),
        "subscribe to a private topic": browser.subscribe(lambda event: None, private_topic),
        "call outside the package": browser.call("wamp.session.list"),
    }
    answers = {}
    for what, attempt in attempts.items():
        try:
            await asyncio.wait_for(attempt, WAMP_TIMEOUT)
        except ApplicationError as exc:
            answers[what] = str(exc.error)
        else:
            answers[what] = "allowed"
    return answers


def test_backend_secret_comes_from_environment(router: RouterStack) -> None:
    """The running router takes the backend's WAMP-CRA secret from BACKEND_SECRET, made up for this run.

    That secret joins as role backend; a wrong one, and the literal placeholder that stands in
    .crossbar/config.json, are refused.
    """

    async def join(secret: str) -> str:
        async with wamp_session(router.ws_url, authid="backend", secret=secret) as session:
            role: str = session.join_details.authrole
            return role

    assert run_async(join(router.env["BACKEND_SECRET"])) == "backend"
    refused = []
    for secret in ("wrong-" + router.env["BACKEND_SECRET"], "${BACKEND_SECRET}", ""):
        with pytest.raises(PermissionError, match=r"not_authorized|authentication_failed"):
            run_async(join(secret))
        refused.append(secret)
    assert len(refused) == 3


def _backend_cmd() -> list[str]:
    return [sys.executable, "-m", f"{PACKAGE}.backend"]


def test_backend_refuses_to_start_without_secret() -> None:
    """`python -m <pkg>.backend` without BACKEND_SECRET exits at once with a message naming it."""
    env = make_stack_env()
    del env["BACKEND_SECRET"]
    result = subprocess.run(_backend_cmd(), env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0
    assert "BACKEND_SECRET" in result.stderr


def test_backend_gives_up_when_router_is_down() -> None:
    """With no router listening the backend stops retrying after BACKEND_MAX_RETRIES and exits non-zero."""
    env = make_stack_env()
    env.update(ROUTER_PORT=str(free_port()), BACKEND_MAX_RETRIES="1")
    result = subprocess.run(_backend_cmd(), env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "backend ready" not in result.stdout
