"""Answers: the `version: 1` answers file, `--set ID=VALUE`, and defaults.

Unknown ids, wrong types and values outside the allowed set are errors with a location
and the allowed values (docs/formats.md, Answers file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import DataError, Problem
from advisor.questions import QuestionBank
from advisor.validation import Checker, suggest, top_mapping, type_name
from advisor.yamlsrc import Loc, load_file


def check_mapping(checker: Checker, loc: Loc, bank: QuestionBank) -> dict[str, Any]:
    """Validate a mapping of question id -> answer at `loc`; return the valid entries."""
    value = checker.get(loc)
    if value is None:
        return {}
    if not isinstance(value, dict):
        checker.add(loc, "wrong-type", f"answers must be a mapping of question id to answer, not {type_name(value)}")
        return {}
    valid = {}
    for qid, answer in value.items():
        question = bank.questions.get(qid)
        if question is None:
            checker.add(
                (*loc, qid),
                "unknown-question",
                f"unknown question '{qid}'",
                suggest(qid, list(bank.questions)),
                key=True,
            )
            continue
        answer = question.coerce(answer)
        error = question.check(answer)
        if error:
            checker.add((*loc, qid), "bad-answer", f"'{qid}': {error}", question.hint_for(answer))
            continue
        valid[qid] = answer
    return valid


def load_file_answers(path: Path, bank: QuestionBank, shown: str | None = None) -> dict[str, Any]:
    """Load an answers file (`version: 1`, `answers:`); raise DataError listing every problem."""
    doc = load_file(path, shown)
    # advisor.schema declares this file (ANSWERS_FILE) but stays off this start-up path: the top
    # level is the shared one, and the answers are checked against the bank just below.
    checker, _ = top_mapping(doc, "answers")
    answers = check_mapping(checker, ("answers",), bank)
    checker.raise_if_any()
    return answers


def parse_sets(pairs: list[str], bank: QuestionBank) -> dict[str, Any]:
    """Parse repeated `--set ID=VALUE` options; every bad one is reported together."""
    answers: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        qid, sep, text = pair.partition("=")
        where = f"--set {pair}"
        question = bank.questions.get(qid.strip())
        if not sep:
            problems.append(Problem(where, 1, 1, "bad-set", "expected ID=VALUE", "for example latency=realtime"))
        elif question is None:
            problems.append(
                Problem(
                    where, 1, 1, "unknown-question", f"unknown question '{qid}'", suggest(qid, list(bank.questions))
                )
            )
        else:
            value = question.parse_text(text)
            error = question.check(value)
            if error:
                problems.append(
                    Problem(where, 1, len(qid) + 2, "bad-answer", f"'{qid}': {error}", question.hint_for(value))
                )
            else:
                answers[question.id] = value
    if problems:
        raise DataError(problems)
    return answers


def as_text(value: Any) -> str:
    """An answer as users write it: a yes/no question's answer as yes or no, as the wizard's menus say."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def complete(bank: QuestionBank, *layers: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with each layer in turn, in the bank's question order."""
    merged = bank.defaults()
    for layer in layers:
        merged.update(layer)
    return {qid: merged[qid] for qid in bank.questions}


def dump(answers: dict[str, Any]) -> str:
    """The answers-file text for `answers` (what --save-answers and `advisor new` write)."""
    import yaml

    class YesNoDumper(yaml.SafeDumper):
        """Booleans as yes and no, the words the wizard asks with (issue 13); YAML 1.1 readers,
        PyYAML's included, still read them as booleans, and the advisor reads them as answers."""

    YesNoDumper.add_representer(bool, lambda dumper, value: dumper.represent_scalar(_BOOL_TAG, as_text(value)))
    return yaml.dump({"version": 1, "answers": answers}, Dumper=YesNoDumper, sort_keys=False, default_flow_style=False)


_BOOL_TAG = "tag:yaml.org,2002:bool"
