"""Property-based tests: whatever answers, rule files or names come in, the outcome is a verdict or a
located exit 2; never a traceback, never a write outside the target."""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from advisor import advice
from advisor.cli import main

BANK = advice.load_bank()
IDS = list(BANK.questions)
LOCATED = re.compile(r"^.+:\d+:\d+: error\[[a-z0-9-]+\]: .+$")
# Derandomised and without shrinking or an example database: the same examples every run, and a
# failure reported at once rather than after minutes of shrinking.
QUICK = [Phase.explicit, Phase.generate]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    phases=QUICK,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["realtime", "push", "true", "yes", "NO", "0755", "1:30"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
keys = st.one_of(st.sampled_from(IDS), st.text(max_size=12))


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def assert_verdict_or_located(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err
    if code == 0:
        assert json.loads(out)["schema"] == "advisor.recommendation/2"
    else:
        assert code == 2, err
        assert err.strip(), "an exit 2 must say why"
        for line in err.strip().splitlines():
            assert LOCATED.match(line), line


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@SETTINGS
@given(st.dictionaries(keys, values, max_size=6), st.sampled_from([1, 1, 1, 2, "1"]))
def test_any_answers_mapping_gives_a_verdict_or_a_located_error(answers: dict[str, Any], version: Any) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "answers.yml"
        path.write_text(yaml.safe_dump({"version": version, "answers": answers}), encoding="utf-8")
        assert_verdict_or_located(*run("recommend", "--answers", str(path), "--format", "json"))
        assert listing(Path(scratch)) == ["answers.yml"]


@SETTINGS
@given(st.text(max_size=200))
def test_any_text_as_an_answers_file_gives_a_verdict_or_a_located_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "answers.yml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        assert_verdict_or_located(*run("recommend", "--answers", str(path), "--format", "json"))


operators = st.sampled_from(["equals", "not_equals", "in", "not_in", "at_least", "at_most", "above", "all"])
conditions = st.dictionaries(
    keys | st.sampled_from(["all", "any", "not", "always"]),
    values | st.dictionaries(operators, values, max_size=2),
    min_size=0,
    max_size=3,
)
rules = st.fixed_dictionaries(
    {
        "id": st.one_of(st.from_regex(r"\A[a-z]{1,8}(-[a-z]{1,8}){0,2}\Z"), st.text(max_size=10)),
        "title": st.text(max_size=40),
        "when": conditions | values,
        "because": st.text(max_size=40),
        "sources": st.lists(st.text(max_size=30) | st.just("https://example.org/x")),
    },
    optional={
        "effects": st.dictionaries(st.sampled_from(["celery", "crossbar", "hybrid", "kafka"]), values, max_size=3),
        "kind": st.sampled_from(["score", "caveat", "other"]),
        "applies_to": values,
        "override": values,
    },
)


@SETTINGS
@given(st.lists(rules, max_size=3))
def test_any_rule_file_gives_a_verdict_or_a_located_error(rule_list: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "org"
        directory.mkdir()
        (directory / "org.yaml").write_text(yaml.safe_dump({"version": 1, "rules": rule_list}), encoding="utf-8")
        assert_verdict_or_located(*run("recommend", "--defaults", "--rules", str(directory), "--format", "json"))
        assert listing(Path(scratch)) == ["org", "org/org.yaml"]


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=QUICK,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(max_size=20))
def test_any_project_name_writes_the_target_or_nothing(name: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        parent = Path(scratch) / "parent"
        parent.mkdir()
        code, _, err = run("new", str(parent / "target"), "--defaults", "--stack", "celery", "--name", name)
        assert "Traceback" not in err and "internal error" not in err
        assert code in (0, 2), err
        expected = ["parent", "parent/target"] if code == 0 else ["parent"]
        assert [p for p in listing(Path(scratch)) if p.count("/") <= 1] == expected
