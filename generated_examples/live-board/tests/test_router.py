"""The Crossbar router, its configuration and the backend component, tested for real.

The router, the backend and the clients run on 127.0.0.1 (see router_fixtures.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, SubscribeOptions

from live_board import backend as backend_module
from live_board import router as launcher
from live_board import tickets

from router_fixtures import PACKAGE, PROJECT_DIR, RouterStack, free_port, make_stack_env
from wamp_client import (
    WAMP_TIMEOUT,
    ClientSession,
    handshake_status,
    new_user,
    other_local_addresses,
    resolve_once,
    run_async,
    ticket_for,
    wamp_session,
)

CONFIG = PROJECT_DIR / ".crossbar" / "config.json"
PUBLIC = f"{PACKAGE}.public."
NOT_AUTHORIZED = "wamp.error.not_authorized"


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(CONFIG.read_text(encoding="utf-8"))
    return config


def web_transports(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The public web transport(s): not the internal one of the HTTP bridge."""
    return [
        t
        for w in config["workers"]
        for t in w.get("transports", [])
        if t["type"] == "web" and t.get("id") != "internal"
    ]


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
    names = ("BACKEND_SECRET", "TICKET_SECRET", "PUBLISHER_KEY", "PUBLISHER_SECRET")
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
        status = handshake_status(router.port, origin)
        assert " 101 " in status, f"{origin} was refused: {status}"
    foreign = ("http://evil.example", f"http://127.0.0.1:{router.port + 1}", f"https://localhost:{router.port}", "null")
    for origin in foreign:
        status = handshake_status(router.port, origin)
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


async def refusals(attempts: dict[str, Any]) -> dict[str, str]:
    """What the router answered to each attempt: an error URI, or "allowed"."""
    answers = {}
    for what, attempt in attempts.items():
        try:
            await asyncio.wait_for(attempt, WAMP_TIMEOUT)
        except ApplicationError as exc:
            answers[what] = str(exc.error)
        else:
            answers[what] = "allowed"
    return answers


def forbidden_to_everyone(session: ClientSession, private_procedure: str, private_topic: str) -> dict[str, Any]:
    """Attempts no browser may make, signed in or not."""
    acknowledged = PublishOptions(acknowledge=True)
    return {
        "register a procedure": session.register(lambda: "forged", f"{PUBLIC}forged"),
        "publish on the public topic": session.publish(f"{PUBLIC}events", {"forged": 1}, options=acknowledged),
        "publish on a private topic": session.publish(private_topic, {"forged": 1}, options=acknowledged),
        "call a backend-only procedure": session.call(private_procedure),
        "subscribe to a private topic": session.subscribe(lambda event: None, private_topic),
        "call outside the package": session.call("wamp.session.list"),
        "call the ticket authenticator": session.call(backend_module.AUTHENTICATE, PACKAGE, None, {"ticket": "x"}),
        "call the authorizer": session.call(backend_module.AUTHORIZE, {}, f"{PUBLIC}hello", "call", {}),
        "subscribe to every user topic by prefix": session.subscribe(
            lambda event: None, f"{PACKAGE}.user.", options=SubscribeOptions(match="prefix")
        ),
        "subscribe to job events by wildcard": session.subscribe(
            lambda event: None, f"{PACKAGE}.user..jobs", options=SubscribeOptions(match="wildcard")
        ),
        "subscribe to all public topics by prefix": session.subscribe(
            lambda event: None, PUBLIC, options=SubscribeOptions(match="prefix")
        ),
    }


def test_anonymous_may_only_say_hello_and_watch_public_events(backend: RouterStack) -> None:
    """An anonymous session (role browser) gets hello and the public events; the router refuses all else.

    Refused: every user-only procedure (whoami), any user's topic (exact, by
    prefix, by wildcard), registering, publishing, the auth procedures and anything the backend
    role may reach (the backend role does call the backend-only procedure: the refusal is the
    role's, not a missing procedure).
    """
    private_procedure = f"{PACKAGE}.internal.probe"
    private_topic = f"{PACKAGE}.internal.events"
    alice = new_user("alice")

    async def scenario() -> tuple[str, dict[str, str], str, str]:
        secret = backend.env["BACKEND_SECRET"]
        async with wamp_session(backend.ws_url, authid="backend", secret=secret) as service:
            await service.register(lambda: "internal", private_procedure)
            async with wamp_session(backend.ws_url) as browser:
                greeting: str = await browser.call(f"{PUBLIC}hello", "anonymous")
                attempts = forbidden_to_everyone(browser, private_procedure, private_topic)
                attempts["call whoami"] = browser.call(backend_module.WHOAMI)
                attempts["subscribe to a user's topic"] = browser.subscribe(
                    lambda event: None, f"{PACKAGE}.user.{alice}.notices"
                )
                refused = await refusals(attempts)
                role: str = browser.join_details.authrole
            internal: str = await service.call(private_procedure)  # the backend role may
        return role, refused, greeting, internal

    role, refused, greeting, internal = run_async(scenario())
    assert role == "browser"
    assert greeting.startswith("Hello, anonymous!")
    assert internal == "internal"
    assert len(refused) == 13
    assert refused == dict.fromkeys(refused, NOT_AUTHORIZED)


def test_user_signs_in_with_a_ticket(backend: RouterStack) -> None:
    """A ticket from tickets.issue() joins as role user, with the ticket's user as authid whatever it asks for."""
    alice = new_user("alice")

    async def scenario() -> tuple[str, str, Any]:
        ticket = ticket_for(backend.env, alice)
        async with wamp_session(backend.ws_url, authid="backend", ticket=ticket) as session:
            me = await session.call(backend_module.WHOAMI)
            return session.join_details.authid, session.join_details.authrole, me

    authid, role, me = run_async(scenario())
    assert (authid, role) == (alice, "user")
    assert me == {"authid": alice}


def dotted_ticket(user: str, expires: int, secret: str) -> str:
    """A ticket for a user id tickets.issue() refuses to sign (a dot would reach into another user's topics)."""
    message = f"v1.{user}.{expires}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return f"{message}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def test_forged_expired_and_tampered_tickets_are_refused(backend: RouterStack) -> None:
    """The router (through the backend's authenticator) refuses every ticket that is not valid now."""
    secret = backend.env["TICKET_SECRET"]
    alice, mallory = new_user("alice"), new_user("mallory")
    good = tickets.issue(alice, secret)
    _, user, expires, signature = good.split(".")
    bad = {
        "signed with another secret": tickets.issue(alice, secrets.token_urlsafe(32)),
        "expired": tickets.issue(alice, secret, ttl=60, now=time.time() - 120),
        "another user's name on alice's signature": f"v1.{mallory}.{expires}.{signature}",
        "a later expiry on alice's signature": f"v1.{user}.{int(expires) + 3600}.{signature}",
        "a user id with a dot, validly signed": dotted_ticket(f"{alice}.{mallory}", int(expires), secret),
        "not a ticket": "hello",
        "empty": "",
    }

    async def join(ticket: str) -> str:
        async with wamp_session(backend.ws_url, ticket=ticket) as session:
            return str(session.join_details.authrole)

    assert run_async(join(good)) == "user"
    with pytest.raises(tickets.TicketError):
        tickets.issue(f"{alice}.{mallory}", secret)  # nor does the web app's side sign one
    refused = []
    for what, ticket in bad.items():
        with pytest.raises(PermissionError, match=r"not_authorized|authentication_failed"):
            run_async(join(ticket))
        refused.append(what)
    assert refused == list(bad)


def test_user_receives_only_their_own_events(backend: RouterStack) -> None:
    """Bob never gets Alice's notices: the router refuses her topic, the user space by prefix or wildcard.

    Bob subscribes by prefix to his own namespace (allowed). Alice calls whoami (a notice on her
    topic), then Bob does: Bob receives his own notice and nothing of Alice's, which the same
    publisher sent before his.
    """
    alice, bob = new_user("alice"), new_user("bob")

    async def scenario() -> tuple[dict[str, str], list[Any], Any]:
        loop = asyncio.get_running_loop()
        alice_got: asyncio.Future[Any] = loop.create_future()
        bob_got: list[Any] = []
        bob_own: asyncio.Future[Any] = loop.create_future()

        def on_bob(event: Any) -> None:
            bob_got.append(event)
            if event.get("authid") == bob and not bob_own.done():
                bob_own.set_result(event)

        async with (
            wamp_session(backend.ws_url, ticket=ticket_for(backend.env, alice)) as alice_session,
            wamp_session(backend.ws_url, ticket=ticket_for(backend.env, bob)) as bob_session,
        ):
            await alice_session.subscribe(resolve_once(alice_got), f"{PACKAGE}.user.{alice}.notices")
            prefix = SubscribeOptions(match="prefix")
            await bob_session.subscribe(on_bob, f"{PACKAGE}.user.{bob}.", options=prefix)
            attempts = {
                "alice's topic": bob_session.subscribe(on_bob, f"{PACKAGE}.user.{alice}.notices"),
                "alice's namespace by prefix": bob_session.subscribe(
                    on_bob, f"{PACKAGE}.user.{alice}.", options=prefix
                ),
                "his name as a bare prefix": bob_session.subscribe(on_bob, f"{PACKAGE}.user.{bob}", options=prefix),
                "the user space by prefix": bob_session.subscribe(on_bob, f"{PACKAGE}.user.", options=prefix),
                "notices by wildcard": bob_session.subscribe(
                    on_bob, f"{PACKAGE}.user..notices", options=SubscribeOptions(match="wildcard")
                ),
                "publish on alice's topic": bob_session.publish(
                    f"{PACKAGE}.user.{alice}.notices", {"forged": 1}, options=PublishOptions(acknowledge=True)
                ),
            }
            refused = await refusals(attempts)
            await alice_session.call(backend_module.WHOAMI)
            await asyncio.wait_for(alice_got, WAMP_TIMEOUT)
            await bob_session.call(backend_module.WHOAMI)
            await asyncio.wait_for(bob_own, WAMP_TIMEOUT)
            return refused, bob_got, alice_got.result()

    refused, bob_got, alice_event = run_async(scenario())
    assert refused and refused == dict.fromkeys(refused, NOT_AUTHORIZED)
    assert alice_event == {"kind": "whoami", "authid": alice}
    assert bob_got == [{"kind": "whoami", "authid": bob}]


def test_unexpected_errors_reach_callers_as_a_reference_only(caplog: pytest.LogCaptureFixture) -> None:
    """An exception inside a procedure becomes <pkg>.error.internal with a reference; the details stay in the log."""

    @backend_module.sanitized
    async def failing() -> None:
        raise ConnectionError("Error 111 connecting to 10.1.2.3:6379. Connection refused.")

    with pytest.raises(ApplicationError) as raised:
        run_async(failing())
    error = raised.value
    assert error.error == f"{PACKAGE}.error.internal"
    reference = str(error.args[0]).rsplit(" ", 1)[-1].rstrip(")")
    assert "10.1.2.3" not in str(error.args) and "6379" not in str(error.args)
    assert reference in caplog.text and "10.1.2.3:6379" in caplog.text


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


@pytest.mark.parametrize(
    ("name", "value"),
    [("BACKEND_SECRET", None), ("TICKET_SECRET", None), ("TICKET_SECRET", "replace-with-a-long-random-secret")],
)
def test_backend_refuses_to_start_without_secret(name: str, value: str | None) -> None:
    """The backend exits at once, naming the variable, without BACKEND_SECRET or TICKET_SECRET or with a placeholder."""
    env = make_stack_env()
    if value is None:
        del env[name]
    else:
        env[name] = value
    result = subprocess.run(_backend_cmd(), env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0
    assert name in result.stderr


def test_backend_gives_up_when_router_is_down() -> None:
    """With no router listening the backend stops retrying after BACKEND_MAX_RETRIES and exits non-zero."""
    env = make_stack_env()
    env.update(ROUTER_PORT=str(free_port()), BACKEND_MAX_RETRIES="1")
    result = subprocess.run(_backend_cmd(), env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "backend ready" not in result.stdout
