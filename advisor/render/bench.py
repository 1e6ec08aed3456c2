"""`advisor bench` output: text, Markdown, self-contained HTML and the `advisor.bench/1` JSON document.

Every format reads one BenchResult. Text and JSON never load Jinja; Markdown and HTML are built
here in Python too (two small tables and two charts do not need a template engine). The JSON
loader `from_json_data` is what `recommend --evidence` reads back, validated field by field.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from advisor.bench.model import ENGINES, SCHEMA, STATUSES, BenchResult, ExperimentResult, Observation
from advisor.errors import InputError

LABELS = {"celery": "Celery", "wamp": "WAMP (Crossbar)"}
# Metrics shown beside an outcome, in this order, with their units; lists (samples) are drawn, not printed.
SHOWN = {"p50_ms": "p50 {} ms", "p99_ms": "p99 {} ms", "per_second": "{} /s", "count": "n={}"}
NOISY = "Absolute figures on a shared machine are noisy: compare the ratios from one run."
COLORS = {"celery": "#2f6f3e", "wamp": "#2a5aa8"}


@contextlib.contextmanager
def progress_bar(steps: int, stream: TextIO) -> Iterator[Callable[[str], None] | None]:
    """A progress bar on a terminal (click's), advanced as each engine's run of an experiment
    begins and labelled with it; None on a pipe or a file, where nothing is drawn."""
    if not stream.isatty():
        yield None
        return
    import click

    with click.progressbar(
        length=steps, label="advisor bench", file=stream, show_pos=True, item_show_func=lambda step: step
    ) as bar:
        begun = 0

        def advance(step: str) -> None:
            nonlocal begun
            # The step that begins now; the bar counts the ones already done.
            bar.current_item = f"{step} ..."
            if begun:
                bar.update(1)
            else:
                bar.render_progress()  # update(0) would not draw the first step's label
            begun += 1

        yield advance
        bar.update(1, "done")


def render(result: BenchResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json_data(result), indent=2, ensure_ascii=False) + "\n"
    return {"text": text, "markdown": markdown, "html": page}[fmt](result)


# --- JSON -------------------------------------------------------------------------------------


def to_json_data(result: BenchResult) -> dict[str, Any]:
    return {
        "schema": result.schema,
        "quick": result.quick,
        "where": dict(result.where),
        "machine": dict(result.machine),
        "experiments": [_experiment_json(item) for item in result.experiments],
        "seconds": result.seconds,
    }


def _experiment_json(item: ExperimentResult) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "rules": list(item.rules),
        "celery": _observation_json(item.celery),
        "wamp": _observation_json(item.wamp),
        "seconds": item.seconds,
    }


def _observation_json(seen: Observation) -> dict[str, Any]:
    return {
        "status": seen.status,
        "outcome": seen.outcome,
        "metrics": dict(seen.metrics),
        "detail": seen.detail,
        "sources": list(seen.sources),
    }


def from_json_data(data: Any, name: str) -> BenchResult:
    """A bench document read back (recommend --evidence); a wrong field is an input error naming it."""
    top = _mapping(data, name, "")
    if top.get("schema") != SCHEMA:
        raise InputError(f"{name}: schema: expected {SCHEMA!r}, found {top.get('schema')!r} (made by advisor bench?)")
    raw = _field(top, name, "experiments", list)
    experiments = tuple(_experiment_from(item, name, f"experiments[{index}]") for index, item in enumerate(raw))
    return BenchResult(
        quick=_field(top, name, "quick", bool),
        where={str(k): str(v) for k, v in _field(top, name, "where", dict).items()},
        machine=dict(_field(top, name, "machine", dict)),
        experiments=experiments,
        seconds=float(_field(top, name, "seconds", (int, float))),
    )


def _experiment_from(data: Any, name: str, path: str) -> ExperimentResult:
    item = _mapping(data, name, path)
    rules = _field(item, name, "rules", list, path)
    if not all(isinstance(rule, str) for rule in rules):
        raise InputError(f"{name}: {path}.rules: expected a list of rule ids")
    return ExperimentResult(
        id=_field(item, name, "id", str, path),
        title=_field(item, name, "title", str, path),
        rules=tuple(rules),
        celery=_observation_from(item.get("celery"), name, f"{path}.celery", "celery"),
        wamp=_observation_from(item.get("wamp"), name, f"{path}.wamp", "wamp"),
        seconds=float(_field(item, name, "seconds", (int, float), path)),
    )


def _observation_from(data: Any, name: str, path: str, engine: str) -> Observation:
    seen = _mapping(data, name, path)
    status = _field(seen, name, "status", str, path)
    if status not in STATUSES:
        raise InputError(f"{name}: {path}.status: {status!r} is not one of {', '.join(STATUSES)}")
    return Observation(
        engine=engine,
        status=status,
        outcome=_field(seen, name, "outcome", str, path),
        metrics=dict(_field(seen, name, "metrics", dict, path)),
        detail=str(seen.get("detail", "")),
        sources=tuple(str(url) for url in seen.get("sources", [])),
    )


def _mapping(data: Any, name: str, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(f"{name}: {path or 'the document'}: expected an object")
    return data


def _field(data: dict[str, Any], name: str, key: str, kind: Any, path: str = "") -> Any:
    where = f"{path}.{key}" if path else key
    if key not in data:
        raise InputError(f"{name}: {where}: missing")
    value = data[key]
    # bool is an int in Python: a count given as true is still wrong.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise InputError(f"{name}: {where}: expected {_kind_name(kind)}, found {type(value).__name__}")
    return value


def _kind_name(kind: Any) -> str:
    names = {str: "a string", bool: "true or false", list: "a list", dict: "an object"}
    return names.get(kind, "a number")


# --- shared wording ---------------------------------------------------------------------------


def figures(seen: Observation) -> str:
    """The key numbers of one observation, short: `p50 0.8 ms, p99 2.1 ms`."""
    shown = [pattern.format(_number(seen.metrics[key])) for key, pattern in SHOWN.items() if key in seen.metrics]
    shown += [f"N={n}: {_number(ms)} ms" for n, ms in fanout_series(seen)]
    return ", ".join(shown)


def ratios(item: ExperimentResult) -> str:
    """The two engines compared within this run (what to compare, as absolute figures are noisy)."""
    celery, wamp = item.celery.metrics, item.wamp.metrics
    shown = []
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        if _positive(celery.get(key)) and _positive(wamp.get(key)):
            shown.append(f"{label} Celery/WAMP {celery[key] / wamp[key]:.1f}x")
    if _positive(celery.get("per_second")) and _positive(wamp.get("per_second")):
        shown.append(f"per second WAMP/Celery {wamp['per_second'] / celery['per_second']:.1f}x")
    fan_celery, fan_wamp = dict(fanout_series(item.celery)), dict(fanout_series(item.wamp))
    both = sorted(n for n in fan_celery.keys() & fan_wamp.keys() if fan_wamp[n] > 0)
    shown += [f"N={n} Celery/WAMP {fan_celery[n] / fan_wamp[n]:.1f}x" for n in both]
    return ", ".join(shown)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def said(seen: Observation) -> str:
    """What one engine did, in one sentence: its outcome, or why it has none."""
    if seen.status == "ok":
        return seen.outcome
    if seen.status == "not-available":
        return f"not available: {seen.outcome}"
    return f"{seen.status}: {seen.detail or seen.outcome}"


def where_line(result: BenchResult) -> str:
    machine = result.machine
    places = "; ".join(f"{key} {value}" for key, value in result.where.items())
    cpus = machine.get("cpus", "?")
    mode = "quick" if result.quick else "full"
    return f"{mode} run on {machine.get('date', '?')}, {cpus} CPUs, Python {machine.get('python', '?')}; {places}"


def fanout_series(seen: Observation) -> list[tuple[int, float]]:
    """Time to the last consumer against N: any metric that maps consumer counts to milliseconds."""
    for value in seen.metrics.values():
        if isinstance(value, dict) and value and all(str(key).isdigit() for key in value):
            return sorted((int(key), float(ms)) for key, ms in value.items() if isinstance(ms, int | float))
    return []


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


# --- text -------------------------------------------------------------------------------------


def text(result: BenchResult) -> str:
    import textwrap

    from advisor.render.text import clean

    def wrap(body: str, first: str, later: str) -> list[str]:
        # Rule ids and URLs keep their hyphens on one line.
        return textwrap.wrap(clean(body), 80, initial_indent=first, subsequent_indent=later, break_on_hyphens=False)

    lines = ["advisor bench: Celery and WAMP (Crossbar) measured side by side", *wrap(where_line(result), "", ""), ""]
    for item in result.experiments:
        lines.append(clean(f"{item.title} ({item.id}, {item.seconds:g} s)"))
        for engine in ENGINES:
            seen = getattr(item, engine)
            # The outcome states its own key figures; the numbers are in the JSON and the HTML.
            lines += wrap(said(seen), f"  {LABELS[engine]:<16}", " " * 18)
        if ratios(item):
            lines += wrap(ratios(item), f"  {'Ratio':<16}", " " * 18)
        lines += wrap("rules: " + ", ".join(item.rules), "  ", "    ")
        lines.append("")
    lines += wrap(f"{result.seconds:g} s in all. {NOISY}", "", "")
    return "\n".join(lines) + "\n"


# --- Markdown ---------------------------------------------------------------------------------


def markdown(result: BenchResult) -> str:
    from advisor.render.templates import md, md_cell

    lines = ["# advisor bench: Celery and WAMP (Crossbar) side by side", "", md(where_line(result)), ""]
    lines += ["| Experiment | Celery | WAMP (Crossbar) | Ratio | Rules |", "|---|---|---|---|---|"]
    for item in result.experiments:
        cells = [f"{md_cell(item.title)} ({item.seconds:g} s)"]
        cells += [md_cell(said(getattr(item, engine))) for engine in ENGINES]
        cells.append(md_cell(ratios(item)))
        cells.append(", ".join(f"`{rule}`" for rule in item.rules))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"{result.seconds:g} s in all. {NOISY}"]
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1d1d1d}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
.where,.note{color:#444;font-size:.9rem}
.pair{display:flex;flex-wrap:wrap;gap:.75rem}
.side{flex:1 1 16rem;min-width:0;border:1px solid #ccc;border-radius:.4rem;padding:.5rem .75rem}
.side h3{margin:.2rem 0;font-size:1rem}.celery h3{color:#2f6f3e}.wamp h3{color:#2a5aa8}
.numbers{font-size:.9rem;color:#333;overflow-wrap:anywhere}.rules{font-size:.9rem;overflow-wrap:anywhere}
code{overflow-wrap:anywhere}
figure{margin:1rem 0}svg{width:100%;max-width:540px;height:auto}figcaption{font-size:.9rem}
"""


def page(result: BenchResult) -> str:
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>advisor bench: Celery and WAMP side by side</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>advisor bench: Celery and WAMP (Crossbar) side by side</h1>",
        f'<p class="where">{esc(where_line(result))}</p>',
        *_charts(result),
    ]
    for item in result.experiments:
        parts.append(f'<section id="{esc(item.id)}"><h2>{esc(item.title)}</h2><div class="pair">')
        for engine in ENGINES:
            seen = getattr(item, engine)
            parts.append(f'<div class="side {engine}"><h3>{esc(LABELS[engine])}</h3><p>{esc(said(seen))}</p>')
            if figures(seen):
                parts.append(f'<p class="numbers">{esc(figures(seen))}</p>')
            parts.append("</div>")
        rules = ", ".join(f"<code>{esc(rule)}</code>" for rule in item.rules)
        parts.append("</div>")
        if ratios(item):
            parts.append(f'<p class="numbers">Ratio: {esc(ratios(item))}</p>')
        parts.append(f'<p class="rules">Evidence for: {rules} ({item.seconds:g} s)</p></section>')
    note = f"{result.seconds:g} s in all. {NOISY}"
    parts += [f'<p class="note">{esc(note)}</p>', "</body></html>"]
    return "\n".join(parts) + "\n"


def _charts(result: BenchResult) -> list[str]:
    by_id = {item.id: item for item in result.experiments}
    charts = []
    if "round-trip" in by_id:
        series = {engine: _samples(getattr(by_id["round-trip"], engine)) for engine in ENGINES}
        if any(series.values()):
            caption = "Round trip: share of calls done within a time (cumulative; ms on a log scale)"
            charts.append(_figure(_cdf_svg(series), caption))
    if "fan-out" in by_id:
        points = {engine: fanout_series(getattr(by_id["fan-out"], engine)) for engine in ENGINES}
        if any(points.values()):
            charts.append(_figure(_fanout_svg(points), "Fan-out: ms until the last of N consumers has the event"))
    return charts


def _samples(seen: Observation) -> list[float]:
    values = seen.metrics.get("samples_ms", [])
    return sorted(float(v) for v in values if isinstance(v, int | float) and v > 0) if isinstance(values, list) else []


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


# Chart geometry: a 360-unit-wide viewBox scales down to a phone's width with its text still legible.
_W, _H, _LEFT, _BOTTOM, _TOP = 360, 230, 44, 40, 24


def _frame(x_label: str, y_label: str) -> list[str]:
    return [
        f'<svg viewBox="0 0 {_W} {_H}" role="img" xmlns="http://www.w3.org/2000/svg" font-size="12">',
        f'<line x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W - 8}" y2="{_H - _BOTTOM}" stroke="#555"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_H - _BOTTOM}" stroke="#555"/>',
        f'<text x="{(_W + _LEFT) / 2}" y="{_H - 4}" text-anchor="middle">{html.escape(x_label)}</text>',
        # The y label reads across, above its axis: a rotated label is harder to read on a phone.
        f'<text x="4" y="14">{html.escape(y_label)}</text>',
    ]


def _legend(engines: list[str]) -> list[str]:
    """One line above the plot, right of the y label: it never hides a curve."""
    return [
        f'<text x="{150 + 60 * column}" y="14" fill="{COLORS[engine]}">{html.escape(LABELS[engine])}</text>'
        for column, engine in enumerate(engines)
    ]


def _cdf_svg(series: dict[str, list[float]]) -> str:
    values = [v for samples in series.values() for v in samples]
    low, high = math.log10(min(values)), math.log10(max(values))
    span = (high - low) or 1.0

    def x(ms: float) -> float:
        return _LEFT + (math.log10(ms) - low) / span * (_W - _LEFT - 12)

    def y(share: float) -> float:
        return _H - _BOTTOM - share * (_H - _BOTTOM - _TOP)

    parts = _frame("milliseconds (log)", "share of calls")
    for engine, samples in series.items():
        if samples:
            points = " ".join(f"{x(ms):.1f},{y((i + 1) / len(samples)):.1f}" for i, ms in enumerate(samples))
            parts.append(f'<polyline fill="none" stroke="{COLORS[engine]}" stroke-width="2" points="{points}"/>')
    for ms in (min(values), max(values)):
        parts.append(f'<text x="{x(ms):.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">{_number(ms)}</text>')
    for share in (0.5, 1.0):  # the median and all calls: where p50 and the tail are read off
        parts.append(f'<text x="{_LEFT - 4}" y="{y(share) + 4:.1f}" text-anchor="end">{share:.0%}</text>')
        level = f"{y(share):.1f}"
        parts.append(f'<line x1="{_LEFT}" y1="{level}" x2="{_W - 8}" y2="{level}" stroke="#ddd" stroke-dasharray="3"/>')
    parts += _legend([engine for engine, samples in series.items() if samples])
    return "".join(parts) + "</svg>"


def _fanout_svg(series: dict[str, list[tuple[int, float]]]) -> str:
    counts = sorted({n for points in series.values() for n, _ in points})
    top = max(ms for points in series.values() for _, ms in points) or 1.0

    def x(n: int) -> float:
        slot = (_W - _LEFT - 24) / max(1, len(counts) - 1)
        return _LEFT + 12 + counts.index(n) * slot

    def y(ms: float) -> float:
        return _H - _BOTTOM - ms / top * (_H - _BOTTOM - _TOP - 30)

    parts = _frame("N consumers", "ms to the last")
    for engine, points in series.items():
        line = " ".join(f"{x(n):.1f},{y(ms):.1f}" for n, ms in points)
        parts.append(f'<polyline fill="none" stroke="{COLORS[engine]}" stroke-width="2" points="{line}"/>')
        parts += [f'<circle cx="{x(n):.1f}" cy="{y(ms):.1f}" r="3" fill="{COLORS[engine]}"/>' for n, ms in points]
    for n in counts:
        parts.append(f'<text x="{x(n):.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">{n}</text>')
    for ms in (0.0, top):
        parts.append(f'<text x="{_LEFT - 4}" y="{y(ms) + 4:.1f}" text-anchor="end">{_number(ms)}</text>')
    parts += _legend([engine for engine, points in series.items() if points])
    return "".join(parts) + "</svg>"
