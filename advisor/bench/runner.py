"""Run the experiments: both engines started once, each experiment run on each side under its deadline.

One ExitStack holds every process a run starts (engines, workers, callees); it is closed at the
end, on an error and on Ctrl-C, so nothing is left running. Each experiment function runs in a
daemon thread joined with the deadline: one that hangs is reported as TIMEOUT and the next one
still runs; one that raises is reported as ERROR; a dead engine is reported, not waited on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from advisor import __version__
from advisor.bench import experiments
from advisor.bench.model import (
    ERROR,
    FULL,
    QUICK,
    TIMEOUT,
    BenchCancelled,
    BenchResult,
    EngineMissing,
    ExperimentResult,
    Observation,
    Settings,
)
from advisor.errors import InputError
from advisor.termination import raising_on_termination

ENGINES_EXTRA = "pip install 'advisor[engines]'"


class Engine(Protocol):
    """What the runner needs of CeleryEngine and WampEngine."""

    description: str

    def alive(self) -> str | None: ...


EngineFactory = Callable[[contextlib.ExitStack, Path], Engine]


@dataclass(frozen=True)
class Side:
    """One engine: its name in the report ("celery", "wamp"), how to start it, and its experiments."""

    name: str
    where: str  # the report's key for it: "broker" or "router"
    start: EngineFactory
    experiments: Mapping[str, Callable[..., Observation]]


@dataclass(frozen=True)
class Options:
    """What `advisor bench` was asked for."""

    quick: bool = False
    only: tuple[str, ...] = ()  # experiment ids; empty: all
    broker: str | None = None
    router: str | None = None
    redis_server: str | None = None
    crossbar: str | None = None
    progress: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def settings(self) -> Settings:
        return QUICK if self.quick else FULL


def selected(only: Sequence[str]) -> tuple[experiments.Experiment, ...]:
    """The experiments to run, in the report's order; an unknown id is an input error naming the valid ones."""
    unknown = [name for name in only if name not in experiments.IDS]
    if unknown:
        raise InputError(f"--only {unknown[0]}: no such experiment; choose from {', '.join(experiments.IDS)}")
    return tuple(item for item in experiments.EXPERIMENTS if not only or item.id in only)


def run(options: Options, sides: Sequence[Side] | None = None, settings: Settings | None = None) -> BenchResult:
    """Start both engines, run the chosen experiments on each, stop everything. Ctrl-C → BenchCancelled."""
    chosen = selected(options.only)
    settings = settings or options.settings
    began = time.monotonic()
    try:
        # SIGTERM or SIGHUP (a CI timeout, a closed terminal) would otherwise end the process with its
        # engines still running in their own sessions: raised instead, they close the stack below.
        with raising_on_termination("every engine process stopped"), contextlib.ExitStack() as stack:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="advisor-bench-")))
            sides = sides if sides is not None else default_sides(options)
            engines = [side.start(stack, work_dir) for side in sides]
            results = tuple(_run_one(item, sides, engines, settings, options.progress) for item in chosen)
            where = {side.where: engine.description for side, engine in zip(sides, engines, strict=True)}
    except BaseException as exc:
        # The `with` has closed the stack by now: every process it started is stopped. A process
        # stopped mid-start may exit with an error, which then stands in front of the Ctrl-C.
        if interrupted(exc):
            raise BenchCancelled("bench cancelled; every engine process stopped") from None
        raise
    return BenchResult(options.quick, where, machine(), results, round(time.monotonic() - began, 2))


def interrupted(exc: BaseException | None) -> bool:
    """Whether Ctrl-C is `exc` or behind it (raised while the stack was being closed)."""
    seen = 0
    while exc is not None and seen < 20:  # a chain is short; the bound only guards against a cycle
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc, seen = exc.__context__, seen + 1
    return False


def _run_one(
    item: experiments.Experiment,
    sides: Sequence[Side],
    engines: Sequence[Engine],
    settings: Settings,
    progress: Callable[[str], None] | None,
) -> ExperimentResult:
    """One experiment on every side, in order (Celery, then WAMP)."""
    began = time.monotonic()
    observed: dict[str, Observation] = {}
    for side, engine in zip(sides, engines, strict=True):
        if progress is not None:
            progress(f"{item.id}: {side.name}")
        observed[side.name] = observe(side.name, side.experiments[item.id], engine, settings)
    seconds = round(time.monotonic() - began, 2)
    return ExperimentResult(item.id, item.title, item.rules, observed["celery"], observed["wamp"], seconds)


def observe(name: str, function: Callable[..., Observation], engine: Engine, settings: Settings) -> Observation:
    """`function(engine, settings)` in a daemon thread under `settings.deadline`; never raises, never hangs."""
    reason = engine.alive()
    if reason is not None:
        return Observation(name, ERROR, "not run", detail=f"engine stopped: {reason}")
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["observation"] = function(engine, settings)
        except Exception as exc:  # reported as this experiment's ERROR; the others still run
            box["error"] = f"{type(exc).__name__}: {exc}"

    # A daemon thread, not concurrent.futures: an executor's threads are joined at exit, so one
    # that hangs would hold the process after every engine had been stopped.
    thread = threading.Thread(target=target, name=f"bench-{name}", daemon=True)
    thread.start()
    thread.join(settings.deadline)
    if thread.is_alive():
        # A thread cannot be killed; it is a daemon, and the processes it waits on are stopped with the stack.
        return Observation(
            name, TIMEOUT, "did not finish", detail=f"ended by its deadline after {settings.deadline:g} s"
        )
    if "error" in box:
        return Observation(name, ERROR, "did not finish", detail=box["error"])
    observation: Observation = box["observation"]
    return observation


def machine() -> dict[str, Any]:
    """Where the figures come from: they mean little without the machine and the day."""
    return {
        "cpus": os.cpu_count() or 0,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "advisor": __version__,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def default_sides(options: Options) -> list[Side]:
    """The real engines: Celery on redis-server (or --broker), WAMP on Crossbar (or --router)."""
    celery_side, wamp_side = _import_sides()

    def start_celery(stack: contextlib.ExitStack, work_dir: Path) -> Engine:
        engine: Engine = celery_side.CeleryEngine(
            stack, _subdir(work_dir, "celery"), options.broker, options.redis_server
        )
        return engine

    def start_wamp(stack: contextlib.ExitStack, work_dir: Path) -> Engine:
        engine: Engine = wamp_side.WampEngine(stack, _subdir(work_dir, "wamp"), options.router, options.crossbar)
        return engine

    return [
        Side("celery", "broker", start_celery, celery_side.EXPERIMENTS),
        Side("wamp", "router", start_wamp, wamp_side.EXPERIMENTS),
    ]


def _subdir(parent: Path, name: str) -> Path:
    """Each engine's own folder for its logs and configs: the two never share a file name."""
    path = parent / name
    path.mkdir(exist_ok=True)
    return path


def _import_sides() -> tuple[Any, ...]:
    """The engine modules; celery or autobahn missing is a message saying how to get them, not a traceback."""
    import importlib

    try:
        return tuple(importlib.import_module(f"advisor.bench.{name}") for name in ("celery_side", "wamp_side"))
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise EngineMissing(f"advisor bench needs {missing}, which is not installed: {ENGINES_EXTRA}") from None
