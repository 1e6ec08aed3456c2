"""The starters' round trips against minimal hand-written apps, in the same run.

    .venv/bin/python benchmarks/starters.py [--quick]

Celery: `add.delay(2, 3).get()` through generated_examples/orders-worker's configuration and
worker, against benchmarks/minimal/minimal_celery.py on the same redis-server. WAMP: a call
to the live-board backend's `hello` through its router configuration (authenticated backend,
least-privilege browser role), against benchmarks/minimal/ (an open local router and a bare
callee). Both of a pair run at the same time and their timed calls alternate in blocks, so
that drift on a shared machine hits both alike. Each reports p50, p99 and throughput; the
results are merged into results.json.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from mirakuru import HTTPExecutor, TCPExecutor

from advisor.bench.processes import START_TIMEOUT, ReadyExecutor, free_port, log_to, logged, running

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "generated_examples"
MINIMAL = Path(__file__).resolve().parent / "minimal"
sys.path[:0] = [str(EXAMPLES / "orders-worker" / "src"), str(EXAMPLES / "live-board" / "src")]

from live_board import router as live_router  # noqa: E402
from orders_worker import stack as orders_stack  # noqa: E402

CROSSBAR_STOPPED = 1  # Crossbar's exit status after SIGTERM has shut it down cleanly


def latencies(samples: list[float], seconds: float, count: int) -> dict[str, float]:
    """p50 and p99 of the timed calls; throughput from `count` calls sent at once in `seconds`."""
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "throughput_per_s": count / seconds,
    }


BLOCKS = 10  # latency samples alternate between starter and minimal in this many blocks each


def interleaved(calls: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """`runs` timed calls of each, alternating in blocks: drift on a shared machine (another
    process, the CPU's clock) then hits both alike instead of whichever ran second."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(BLOCKS):
        for name, call in calls.items():
            for _ in range(runs // BLOCKS):
                start = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - start)
    return samples


def celery_call(app: Any, name: str) -> Callable[[], None]:
    def call() -> None:
        assert app.send_task(name, (2, 3)).get(timeout=10) == 5

    return call


def celery_throughput(app: Any, name: str, runs: int) -> float:
    start = time.perf_counter()
    pending = [app.send_task(name, (2, 3)) for _ in range(runs)]
    for result in pending:
        result.get(timeout=30)
    return time.perf_counter() - start


def measure_celery(apps: dict[str, tuple[Any, str]], runs: int) -> dict[str, dict[str, float]]:
    calls = {label: celery_call(app, name) for label, (app, name) in apps.items()}
    for call in calls.values():
        for _ in range(20):  # warm up connections and the workers' pools
            call()
    samples = interleaved(calls, runs)
    return {
        label: latencies(samples[label], celery_throughput(app, name, runs), runs)
        for label, (app, name) in apps.items()
    }


def celery_figures(log_dir: Path, runs: int) -> dict[str, Any]:
    from celery import Celery
    from orders_worker.celery_app import make_app
    from orders_worker.settings import Settings

    password = secrets.token_urlsafe(16)
    port = free_port()
    env = {
        **os.environ,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(port),
        "REDIS_PASSWORD": password,
        "REDIS_DB": "0",
        "PYTHONPATH": str(EXAMPLES / "orders-worker" / "src"),
    }
    # redis-server as scripts/run starts it: on the config file the starter's own glue writes.
    config = orders_stack.write_redis_conf(env, log_dir)
    apps: list[Any] = []
    with ExitStack() as stack:
        redis_server = shutil.which("redis-server") or "redis-server"
        redis = TCPExecutor(
            [redis_server, str(config)], "127.0.0.1", port, timeout=30, **log_to(stack, log_dir / "redis.log")
        )
        stack.enter_context(running(redis))
        starter_app = make_app(Settings.from_env(env), set_as_current=False)
        apps.append(starter_app)
        worker = ReadyExecutor(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "orders_worker.celery_app",
                "worker",
                "-c",
                "2",
                "-n",
                "bench@%h",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "warning",
            ],
            ready=lambda: bool(starter_app.control.ping(timeout=0.5)),
            envvars=env,
            cwd=str(EXAMPLES / "orders-worker"),
            **log_to(stack, log_dir / "worker.log"),
        )
        stack.enter_context(running(worker))
        try:
            url = f"redis://:{password}@127.0.0.1:{port}"
            minimal_app = Celery("minimal", broker=f"{url}/4", backend=f"{url}/5")
            apps.append(minimal_app)
            minimal_env = {**env, "BENCH_BROKER": f"{url}/4", "BENCH_BACKEND": f"{url}/5", "PYTHONPATH": str(MINIMAL)}
            minimal_worker = ReadyExecutor(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "minimal_celery",
                    "worker",
                    "-c",
                    "2",
                    "-n",
                    "minimal@%h",
                    "--without-mingle",
                    "--without-gossip",
                    "-l",
                    "warning",
                ],
                ready=lambda: bool(minimal_app.control.ping(timeout=0.5)),
                envvars=minimal_env,
                cwd=str(MINIMAL),
                **log_to(stack, log_dir / "minimal-worker.log"),
            )
            stack.enter_context(running(minimal_worker))
            both = {"starter": (starter_app, "orders_worker.tasks.add"), "minimal": (minimal_app, "minimal_celery.add")}
            figures = measure_celery(both, runs)
            starter, minimal = figures["starter"], figures["minimal"]
        finally:
            # Finish with the clients while Redis still runs: results still in reference cycles,
            # collected later, and an open result consumer both retry their reconnection for
            # ever once Redis is gone, and the process never exits.
            gc.collect()
            for app in apps:
                app.backend.result_consumer.stop()
                app.close()
    return {"starter": starter, "minimal": minimal, "p50_ratio": starter["p50_ms"] / minimal["p50_ms"]}


async def wamp_client(url: str, realm: str) -> tuple[Any, Any]:
    """A joined anonymous session at `url` and its transport."""
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp.types import ComponentConfig

    joined: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    class Client(ApplicationSession):
        async def onJoin(self, details: Any) -> None:
            joined.set_result(self)

    session = Client(ComponentConfig(realm))
    factory = WampWebSocketClientFactory(lambda: session, url=url)
    host, port = url.split("//")[1].split("/")[0].split(":")
    transport, _ = await asyncio.get_running_loop().create_connection(factory, host, int(port))
    return await asyncio.wait_for(joined, 10), transport


async def measure_wamp(targets: dict[str, tuple[str, str, str]], runs: int) -> dict[str, dict[str, float]]:
    """targets: label -> (url, realm, procedure); latency interleaved as in interleaved()."""
    clients = {label: await wamp_client(url, realm) for label, (url, realm, _) in targets.items()}
    samples: dict[str, list[float]] = {label: [] for label in targets}
    for label, (client, _) in clients.items():
        for _ in range(20):
            await client.call(targets[label][2], "bench")
    for _ in range(BLOCKS):
        for label, (client, _) in clients.items():
            for _ in range(runs // BLOCKS):
                start = time.perf_counter()
                await client.call(targets[label][2], "bench")
                samples[label].append(time.perf_counter() - start)
    figures = {}
    for label, (client, transport) in clients.items():
        start = time.perf_counter()
        await asyncio.gather(*(client.call(targets[label][2], "bench") for _ in range(runs)))
        figures[label] = latencies(samples[label], time.perf_counter() - start, runs)
        client.leave()
        transport.close()
    return figures


def wamp_figures(log_dir: Path, runs: int) -> dict[str, Any]:
    project = EXAMPLES / "live-board"
    port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="bench-cbdir-"))
    env = {
        **os.environ,
        "BACKEND_SECRET": secrets.token_urlsafe(24),
        "TICKET_SECRET": secrets.token_urlsafe(32),
        "ROUTER_PORT": str(port),
        "CROSSBAR_BIN": live_router.find_crossbar(project, os.environ),
        "PYTHONPATH": str(project / "src"),
    }
    try:
        with ExitStack() as stack:
            # The starter's own entry points, as supervisord.conf and docker-compose.yml run them.
            router = HTTPExecutor(
                [sys.executable, "-m", "live_board.router", "--run-dir", str(run_dir)],
                f"http://127.0.0.1:{port}/",
                method="GET",
                envvars=env,
                cwd=str(project),
                timeout=START_TIMEOUT,
                expected_returncode=CROSSBAR_STOPPED,
                **log_to(stack, log_dir / "router.log"),
            )
            stack.enter_context(running(router))
            backend_log = log_dir / "backend.log"
            backend = ReadyExecutor(
                [sys.executable, "-m", "live_board.backend"],
                ready=logged(backend_log, "backend ready"),
                envvars=env,
                cwd=str(project),
                **log_to(stack, backend_log),
            )
            stack.enter_context(running(backend))
            minimal_port = _minimal_router(stack, log_dir, run_dir)
            targets = {
                "starter": (f"ws://127.0.0.1:{port}/ws", "live_board", "live_board.public.hello"),
                "minimal": (f"ws://127.0.0.1:{minimal_port}", "bench", "bench.hello"),
            }
            figures = asyncio.run(measure_wamp(targets, runs))
            starter, minimal = figures["starter"], figures["minimal"]
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return {"starter": starter, "minimal": minimal, "p50_ratio": starter["p50_ms"] / minimal["p50_ms"]}


def _minimal_router(stack: ExitStack, log_dir: Path, run_dir: Path) -> int:
    """An open local router (benchmarks/minimal/config.json) and the bare callee; the router's port."""
    port = free_port()
    cbdir = run_dir / "minimal"
    cbdir.mkdir()
    config = json.loads((MINIMAL / "config.json").read_text(encoding="utf-8"))
    config["workers"][0]["transports"][0]["endpoint"]["port"] = port
    (cbdir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    crossbar = live_router.find_crossbar(EXAMPLES / "live-board", os.environ)
    router = TCPExecutor(
        [crossbar, "start", "--cbdir", str(cbdir)],
        "127.0.0.1",
        port,
        cwd=str(cbdir),
        timeout=START_TIMEOUT,
        expected_returncode=CROSSBAR_STOPPED,
        **log_to(stack, log_dir / "minimal-router.log"),
    )
    stack.enter_context(running(router))
    callee_log = log_dir / "minimal-callee.log"
    callee = ReadyExecutor(
        [sys.executable, str(MINIMAL / "minimal_callee.py")],
        ready=logged(callee_log, "minimal callee ready"),
        envvars={"BENCH_URL": f"ws://127.0.0.1:{port}"},
        cwd=str(MINIMAL),
        **log_to(stack, callee_log),
    )
    stack.enter_context(running(callee))
    return port


def main() -> None:
    runs = 200 if "--quick" in sys.argv else 1000
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as logs:
        figures = {"celery": celery_figures(Path(logs), runs), "wamp": wamp_figures(Path(logs), runs)}
    out = ROOT / "benchmarks" / "results.json"
    results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    results["starters"] = figures
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name, item in figures.items():
        s, m = item["starter"], item["minimal"]
        print(
            f"{name:<7} starter p50 {s['p50_ms']:.2f} ms p99 {s['p99_ms']:.2f} ms {s['throughput_per_s']:.0f}/s | "
            f"minimal p50 {m['p50_ms']:.2f} ms p99 {m['p99_ms']:.2f} ms {m['throughput_per_s']:.0f}/s | "
            f"p50 ratio {item['p50_ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
