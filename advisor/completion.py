"""Shell completion for values only the rules know: rule ids, question ids, answers.

Typer calls these while the user presses TAB (`--install-completion` sets that up). They
read the shipped rules, plus any `--rules` already typed on the line, and never raise:
a broken rule file must not turn TAB into a traceback in the user's shell.

No `from __future__ import annotations`: Typer reads these functions' annotations to know
which argument is the context, and cannot resolve names imported for type checking only.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from advisor.rules import RuleSet


def rule_ids(ctx: click.Context, incomplete: str) -> list[str]:
    """`advisor rules show <TAB>`: the ids of the rules, shipped and --rules."""
    ruleset = _ruleset(ctx)
    return [rule.id for rule in ruleset.rules if rule.id.startswith(incomplete)] if ruleset else []


def bench_ids(ctx: click.Context, incomplete: str) -> list[str]:
    """`advisor bench --only <TAB>`: the experiment ids (a small module, loaded only when completing)."""
    from advisor.bench.experiments import IDS

    return [name for name in IDS if name.startswith(incomplete)]


def answer_settings(ctx: click.Context, incomplete: str) -> list[str]:
    """`--set <TAB>`: `id=` for each question; after `id=`, that question's values."""
    ruleset = _ruleset(ctx)
    if ruleset is None:
        return []
    bank = ruleset.questions.questions
    if "=" not in incomplete:
        return [f"{qid}=" for qid in bank if qid.startswith(incomplete)]
    qid, _, typed = incomplete.partition("=")
    question = bank.get(qid)
    if question is None:
        return []
    return [f"{qid}={value}" for value in values_of(question) if value.startswith(typed)]


def values_of(question: Any) -> list[str]:
    """The values offered for a question: its choices, yes/no; an integer has none to list."""
    if question.type == "choice":
        return list(question.values)
    if question.type == "bool":
        return ["yes", "no"]
    return []


def _ruleset(ctx: click.Context) -> "RuleSet | None":
    from advisor import advice
    from advisor.errors import AdvisorError

    extra = [Path(path) for path in (ctx.params.get("rules") or [])]
    try:
        return advice.load_ruleset(extra)
    except (AdvisorError, OSError):
        return None
