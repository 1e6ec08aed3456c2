"""Portfolio mode: `advisor recommend --batch FILE`, one verdict per named service.

A YAML file (`version: 1`, `services: [{name, answers}]`) or a CSV file (a `name` column and
one column per question id; an empty cell takes the default). A bad row is reported by its
row and column; the command writes nothing then, unless `--skip-bad` asks for the others'
verdicts (`recommend_all`).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor import answers as answers_mod
from advisor import engine, schema
from advisor.errors import DataError, InputError, Problem
from advisor.questions import QuestionBank
from advisor.render import Format, one_of
from advisor.rules import OPTIONS, RuleSet
from advisor.validation import suggest
from advisor.yamlsrc import MAX_BYTES, decode_utf8, load_file

# A portfolio is a table: text for people, JSON lines or CSV for programs.
FORMATS = (Format.text, Format.json, Format.csv)
NOT_WRITTEN = "nothing written; fix the rows above, or pass --skip-bad to write the others' verdicts"


@dataclass(frozen=True)
class Service:
    """One named answer set of a portfolio file."""

    name: str
    answers: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """One service's verdict in a portfolio run."""

    name: str
    verdict: engine.Verdict


def recommend_all(path: Path, ruleset: RuleSet, fmt: Format, skip_bad: bool, write: Callable[[str], None]) -> None:
    """One verdict per service, given to `write`. A bad row stops the run before anything is
    written (DataError, exit 2); with `skip_bad` the good rows' verdicts are written, then the
    bad rows reported, still as an error."""
    if fmt not in FORMATS:
        raise InputError(f"--batch writes {one_of(FORMATS)}, not {fmt}")
    services, problems = load(path, ruleset.questions)
    if problems and not skip_bad:
        # README: problems are reported before anything is written; a partial table written
        # over last week's out.csv would pass for the whole portfolio.
        raise DataError(problems, NOT_WRITTEN)
    write(render(decide_all(ruleset, services), fmt))
    if problems:
        raise DataError(problems)


def load(path: Path, bank: QuestionBank) -> tuple[list[Service], list[Problem]]:
    """The services that are valid, and a problem for every bad row."""
    if path.suffix.lower() == ".csv":
        return _load_csv(path, bank)
    checker, items = schema.check_file(load_file(path), schema.BATCH_FILE)
    services = []
    for index in range(len(items or [])):
        before = len(checker.problems)
        item = schema.check_item(checker, ("services", index), schema.SERVICE)
        if item is None:
            continue
        given = answers_mod.check_mapping(checker, ("services", index, "answers"), bank)
        if item["name"] and len(checker.problems) == before:
            services.append(Service(item["name"], answers_mod.complete(bank, given)))
    return services, checker.problems


def _load_csv(path: Path, bank: QuestionBank) -> tuple[list[Service], list[Problem]]:
    text = path.read_bytes()[: MAX_BYTES + 1]
    if len(text) > MAX_BYTES:
        raise DataError([Problem(str(path), 1, 1, "too-large", f"the file is over {MAX_BYTES} bytes")])
    rows = list(csv.reader(io.StringIO(decode_utf8(text, str(path)))))
    if not rows or "name" not in rows[0]:
        raise DataError([Problem(str(path), 1, 1, "missing-column", "the first row needs a 'name' column")])
    header = rows[0]
    bad = [
        Problem(str(path), 1, col, "unknown-question", f"unknown column '{key}'", suggest(key, list(bank.questions)))
        for col, key in enumerate(header, start=1)
        if key != "name" and key not in bank.questions
    ]
    if bad:
        raise DataError(bad)
    services, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        service, row_problems = _csv_row(str(path), line, header, row, bank)
        problems += row_problems
        if service is not None:
            services.append(service)
    return services, problems


def _csv_row(
    path: str, line: int, header: list[str], row: list[str], bank: QuestionBank
) -> tuple[Service | None, list[Problem]]:
    problems: list[Problem] = []
    given: dict[str, Any] = {}
    cells = dict(zip(header, row, strict=False))
    for col, key in enumerate(header, start=1):
        text = cells.get(key, "").strip()
        if key == "name" or not text:
            continue
        question = bank.questions[key]
        value = question.parse_text(text)
        error = question.check(value)
        if error:
            problems.append(Problem(path, line, col, "bad-answer", f"'{key}': {error}", question.hint_for(value)))
        given[key] = value
    name = cells.get("name", "").strip()
    if not name:
        problems.append(Problem(path, line, header.index("name") + 1, "missing-name", "the row has no name"))
    if problems:
        return None, problems
    return Service(name, answers_mod.complete(bank, given)), []


def decide_all(ruleset: RuleSet, services: list[Service]) -> list[Outcome]:
    return [Outcome(service.name, engine.decide(ruleset, service.answers)) for service in services]


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    counts = Counter(outcome.verdict.recommendation for outcome in outcomes)
    reasons = Counter(rule.id for outcome in outcomes for rule in outcome.verdict.fired[:3])
    return {
        "services": len(outcomes),
        "verdicts": {option: counts.get(option, 0) for option in OPTIONS},
        "common_reasons": [{"rule": rule, "services": n} for rule, n in reasons.most_common(5)],
    }


def render(outcomes: list[Outcome], fmt: str) -> str:
    if fmt == "json":
        lines = [
            json.dumps(
                {
                    "name": o.name,
                    "recommendation": o.verdict.recommendation,
                    "confidence": o.verdict.confidence,
                    "scores": o.verdict.scores,
                }
            )
            for o in outcomes
        ]
        return "\n".join([*lines, json.dumps({"summary": summary(outcomes)})]) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "recommendation", "confidence", *OPTIONS])
        for o in outcomes:
            writer.writerow(
                [
                    o.name,
                    o.verdict.recommendation,
                    o.verdict.confidence,
                    *(o.verdict.scores[option] for option in OPTIONS),
                ]
            )
        return out.getvalue()
    return _table(outcomes)


def _services(count: int) -> str:
    return f"{count} service" if count == 1 else f"{count} services"


def _table(outcomes: list[Outcome]) -> str:
    width = max([len(o.name) for o in outcomes] + [7])
    lines = [f"{'service':<{width}}  {'verdict':<9} {'confidence':<10} " + " ".join(OPTIONS)]
    for o in outcomes:
        scores = " ".join(f"{o.verdict.scores[option]:>{len(option)}}" for option in OPTIONS)
        lines.append(f"{o.name:<{width}}  {o.verdict.recommendation:<9} {o.verdict.confidence:<10} {scores}")
    info = summary(outcomes)
    counts = ", ".join(f"{option} {n}" for option, n in info["verdicts"].items())
    lines += ["", f"{_services(info['services'])}: {counts}", "Most common reasons:"]
    lines += [f"  {item['rule']} ({_services(item['services'])})" for item in info["common_reasons"]]
    return "\n".join(lines) + "\n"
