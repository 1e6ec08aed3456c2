"""The architecture diagram of the user's system, drawn from their answers and the outcome.

`build` decides what is in the picture (plain data: nodes and edges); `mermaid`, `text_lines`
and `layout` only draw it, so Markdown, HTML and the terminal always show the same system.
Issue 13 asked for this: a generic picture showed browsers, beat and "Redis, RabbitMQ or SQS"
to teams with none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The broker a Celery outcome draws: the one the team runs, else Redis, which the starter
# uses by default (a new service for the team, said in its label).
BROKERS = {"redis": "Redis", "rabbitmq": "RabbitMQ", "sqs": "Amazon SQS"}
NEW_BROKER = "Redis (new, to run)"


@dataclass(frozen=True)
class Node:
    """One box: `shape` is box, store (a broker) or round (the router); `column` places it left to right."""

    id: str
    label: str
    shape: str = "box"
    column: int = 0


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    both_ways: bool = False


@dataclass(frozen=True)
class Diagram:
    outcome: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return next(node for node in self.nodes if node.id == node_id)


WEB = Node("web", "Your web application", column=1)
IN_PROCESS = Node("web", "Your web application (background tasks in-process)", column=1)
BROWSERS = Node("browsers", "Browsers", column=0)
DEVICES = Node("devices", "IoT devices", column=0)
OTHERS = Node("others", "Non-Python clients", column=0)
TIMER = Node("timer", "cron or a systemd timer", column=0)
BEAT = Node("beat", "celery beat (exactly one)", column=1)
ROUTER = Node("router", "Crossbar.io router", shape="round", column=1)
BACKEND = Node("backend", "Backend component (Autobahn, asyncio)", column=2)
WORKERS = Node("workers", "Celery workers", column=3)


def build(answers: dict[str, Any], outcome: str) -> Diagram:
    """The system for `outcome` (celery, crossbar, hybrid, neither) as these answers describe it."""
    builders = {"celery": _celery, "crossbar": _crossbar, "hybrid": _hybrid, "neither": _neither}
    diagram = Diagram(outcome)
    builders[outcome](diagram, answers)
    return diagram


def broker_node(answers: dict[str, Any]) -> Node:
    label = BROKERS.get(answers.get("existing_broker", "none"), NEW_BROKER)
    return Node("broker", f"Broker: {label}", shape="store", column=2)


def _browsers(answers: dict[str, Any]) -> bool:
    return bool(answers.get("browser_clients", "none") != "none")


def _scheduled(answers: dict[str, Any]) -> bool:
    return bool(answers.get("scheduling", "none") != "none")


def _add(diagram: Diagram, node: Node, *edges: Edge) -> None:
    diagram.nodes.append(node)
    diagram.edges.extend(edges)


def _http_clients(diagram: Diagram, answers: dict[str, Any]) -> None:
    """Without a router, browsers and devices reach the system through the web app over HTTP."""
    if _browsers(answers):
        _add(diagram, BROWSERS, Edge("browsers", "web", "HTTP"))
    if answers.get("iot_devices"):
        _add(diagram, DEVICES, Edge("devices", "web", "HTTP"))


def _wamp_clients(diagram: Diagram, answers: dict[str, Any]) -> None:
    """With a router, every live client holds a WAMP connection to it (the web app still serves the pages)."""
    if _browsers(answers):
        verbs = "call, subscribe" if answers["browser_clients"] == "rpc" else "subscribe"
        _add(diagram, BROWSERS, Edge("browsers", "router", f"WebSocket: {verbs}", both_ways=True))
    if answers.get("iot_devices"):
        _add(diagram, DEVICES, Edge("devices", "router", "WAMP", both_ways=True))
    if answers.get("polyglot"):
        _add(diagram, OTHERS, Edge("others", "router", "WAMP", both_ways=True))


def _celery_core(diagram: Diagram, answers: dict[str, Any]) -> None:
    """Broker, workers and, only when there is scheduled work, beat."""
    _add(diagram, broker_node(answers), Edge("broker", "workers", "deliver"))
    _add(diagram, WORKERS)
    if _scheduled(answers):
        _add(diagram, BEAT, Edge("beat", "broker", "periodic tasks"))


def _celery(diagram: Diagram, answers: dict[str, Any]) -> None:
    _http_clients(diagram, answers)
    _add(diagram, WEB, Edge("web", "broker", "task.delay()"))
    _celery_core(diagram, answers)


def _crossbar(diagram: Diagram, answers: dict[str, Any]) -> None:
    _wamp_clients(diagram, answers)
    _add(diagram, ROUTER, Edge("backend", "router", "register, publish", both_ways=True))
    _add(diagram, WEB, Edge("web", "router", "publish (HTTP bridge)"))
    _add(diagram, BACKEND)
    _timer(diagram, answers)


def _hybrid(diagram: Diagram, answers: dict[str, Any]) -> None:
    _wamp_clients(diagram, answers)
    _add(diagram, ROUTER, Edge("router", "backend", "invoke"))
    _add(diagram, BACKEND, Edge("backend", "broker", "send_task"))
    _add(diagram, WEB, Edge("web", "broker", "task.delay()"))
    _celery_core(diagram, answers)
    diagram.edges.append(Edge("workers", "router", "progress: signed POST /publish"))


def _neither(diagram: Diagram, answers: dict[str, Any]) -> None:
    """One process: no broker, no router; a timer only when there is scheduled work."""
    if _browsers(answers):  # one edge both ways: the same connection also pushes live updates
        _add(diagram, BROWSERS, Edge("browsers", "web", "HTTP, SSE or WebSocket", both_ways=True))
    if answers.get("iot_devices"):
        _add(diagram, DEVICES, Edge("devices", "web", "HTTP"))
    _add(diagram, IN_PROCESS)
    _timer(diagram, answers)


def _timer(diagram: Diagram, answers: dict[str, Any]) -> None:
    if _scheduled(answers):
        _add(diagram, TIMER, Edge("timer", "web", "runs a command"))


# Mermaid reads `"`, `#`, `<`, `>`, `&` and backticks inside a quoted label; entity codes
# keep them text (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters),
# and no backtick can end the Markdown code fence early.
_MERMAID_ESCAPES = {char: f"#{ord(char)};" for char in '"#<>&`'}
_SHAPES = {"box": '["{}"]', "store": '[("{}")]', "round": '(["{}"])'}


def mermaid_label(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(char, char) for char in " ".join(text.split()))


def mermaid(diagram: Diagram) -> str:
    """Mermaid flowchart source; GitHub renders it in Markdown."""
    lines = ["flowchart LR"]
    lines += [f"  {node.id}" + _SHAPES[node.shape].format(mermaid_label(node.label)) for node in diagram.nodes]
    for edge in diagram.edges:
        start = "<--" if edge.both_ways else "--"
        lines.append(f'  {edge.source} {start} "{mermaid_label(edge.label)}" --> {edge.target}')
    return "\n".join(lines)


def text_lines(diagram: Diagram) -> list[str]:
    """One line per edge, for the terminal: `Browsers --HTTP--> Your web application`."""
    names = {node.id: node.label for node in diagram.nodes}
    lines = []
    for edge in diagram.edges:
        start = "<--" if edge.both_ways else "--"
        lines.append(f"{names[edge.source]} {start}{edge.label}--> {names[edge.target]}")
    return lines or [names[node.id] for node in diagram.nodes]


# SVG geometry for the HTML report, which draws inline SVG (no script, no network).
WIDTH, BOX_W, BOX_H, ROW, TOP, LANE = 900, 150, 56, 90, 40, 14


def layout(diagram: Diagram) -> dict[str, Any]:
    """Boxes stacked in their columns (empty columns dropped), edges between box sides, labels at midpoints."""
    used = sorted({node.column for node in diagram.nodes})
    gap = (WIDTH - BOX_W) / max(len(used) - 1, 1)
    rows: dict[int, int] = {}
    boxes = {}
    for node in diagram.nodes:
        row = rows[node.column] = rows.get(node.column, -1) + 1
        x, y = round(used.index(node.column) * gap), TOP + row * ROW
        boxes[node.id] = {"node": node, "x": x, "y": y, "lines": _wrap_label(node.label)}
    height = TOP + max(rows.values()) * ROW + BOX_H + TOP
    lines = [_line(edge, boxes[edge.source], boxes[edge.target], gap) for edge in diagram.edges]
    return {
        "width": WIDTH,
        "height": height,
        "box_w": BOX_W,
        "box_h": BOX_H,
        "boxes": list(boxes.values()),
        "lines": lines,
    }


def _line(edge: Edge, source: dict[str, Any], target: dict[str, Any], gap: float) -> dict[str, Any]:
    """Points of one edge. Across more than one column it runs over the top, so it crosses no box between."""
    sx, tx = source["x"] + BOX_W / 2, target["x"] + BOX_W / 2
    if abs(source["x"] - target["x"]) > gap * 1.5:
        points = [(sx, source["y"]), (sx, LANE), (tx, LANE), (tx, target["y"])]
        return {"points": points, "mx": (sx + tx) / 2, "my": LANE - 4, "anchor": "middle", "edge": edge}
    if source["x"] == target["x"]:  # same column: from one box's bottom to the other's top
        upper, lower = sorted((source, target), key=lambda box: box["y"])
        ends = [(sx, upper["y"] + BOX_H), (sx, lower["y"])]
        points = ends if upper is source else ends[::-1]
        return {
            "points": points,
            "mx": sx + 6,
            "my": (upper["y"] + BOX_H + lower["y"]) / 2 + 4,
            "anchor": "start",
            "edge": edge,
        }
    else:
        left, right = sorted((source, target), key=lambda box: box["x"])
        ends = [(left["x"] + BOX_W, left["y"] + BOX_H / 2), (right["x"], right["y"] + BOX_H / 2)]
        points = ends if left is source else ends[::-1]
    # The label sits nearer the source: edges converging on one box then keep their labels apart.
    (x1, y1), (x2, y2) = points
    return {
        "points": points,
        "mx": x1 + 0.4 * (x2 - x1),
        "my": y1 + 0.4 * (y2 - y1) - 4,
        "anchor": "middle",
        "edge": edge,
    }


def _wrap_label(label: str, width: int = 20) -> list[str]:
    """At most three lines that fit a box; a longer label keeps its first words."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines if len(lines) <= 3 else [*lines[:2], lines[2] + " …"]
