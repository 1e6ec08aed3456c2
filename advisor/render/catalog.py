"""The rules and the question bank as people and programs read them.

`advisor questions` (text, or JSON rows), `advisor rules list` (one line a rule) and
`advisor rules show ID` (one rule in full, its `when` condition included). Pure: each
function takes the loaded data and returns the text to print.
"""

from __future__ import annotations

import json
from typing import Any

from advisor import answers as answers_mod
from advisor.conditions import describe
from advisor.questions import Question, QuestionBank
from advisor.rules import Rule


def questions_text(bank: QuestionBank) -> str:
    """Each question: id, type, default, prompt, allowed values, help and why it matters."""
    return "".join(_question_block(question) for question in bank.questions.values())


def _question_block(question: Question) -> str:
    lines = [
        f"{question.id} ({question.type}; default {answers_mod.as_text(question.default)})",
        f"  {question.prompt}",
        f"  allowed: {question.allowed()}",
        f"  {question.help}",
        f"  why it matters: {question.matters}",
        "",
    ]
    return "\n".join(lines) + "\n"


def questions_json(bank: QuestionBank) -> str:
    """The bank as a JSON array, one object a question, for programs (docs/formats.md)."""
    return json.dumps([question_row(question) for question in bank.questions.values()], indent=2) + "\n"


def question_row(question: Question) -> dict[str, Any]:
    """One question as plain data: choices for a choice, bounds for an integer."""
    row: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "prompt": question.prompt,
        "help": question.help,
        "matters": question.matters,
        "default": question.default,
    }
    if question.type == "choice":
        row["choices"] = [{"value": choice.value, "label": choice.label} for choice in question.choices]
    if question.type == "int":
        row["min"], row["max"] = question.minimum, question.maximum
    return row


def rules_table(rules: tuple[Rule, ...] | list[Rule]) -> str:
    """One line a rule: id, what it does (points, or its kind), title."""
    return "".join(f"{rule.id:<40} {_what_it_does(rule):<28} {rule.title}\n" for rule in rules)


def _what_it_does(rule: Rule) -> str:
    if rule.effects:
        return " ".join(f"{option}{points:+d}" for option, points in rule.effects.items())
    if rule.is_requirement:
        return "requirement: rules out " + ",".join(rule.excludes)
    return f"caveat ({rule.severity})"


def rule_detail(rule: Rule) -> str:
    """One rule in full: kind, place, effects, severity or exclusions, condition, reason, sources."""
    lines = [
        f"{rule.id}: {rule.title}",
        f"  kind: {rule.kind}    defined at: {rule.location}",
        "  effects: " + (", ".join(f"{option} {points:+d}" for option, points in rule.effects.items()) or "none"),
    ]
    if rule.is_caveat:
        lines.append(f"  severity: {rule.severity}")
        lines.append("  shown when the verdict is: " + ", ".join(rule.applies_to))
    if rule.is_requirement:
        lines.append("  rules out: " + ", ".join(rule.excludes))
    lines += ["  when:", *describe(rule.when, "    ")]
    lines.append(f"  because: {' '.join(rule.because.split())}")
    lines += [f"  source: {source}" for source in rule.sources]
    return "\n".join(lines) + "\n"
