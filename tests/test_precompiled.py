"""The build-time compilation of the shipped rules: the same advice, and never a stale one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from advisor import advice, precompiled, rules

ROOT = Path(__file__).resolve().parent.parent


def profiles(count: int) -> list[dict[str, object]]:
    """Random complete answer sets (every question, every allowed value)."""
    chooser = random.Random(7)
    questions = advice.load_bank().questions.values()
    found = []
    for _ in range(count):
        answers: dict[str, object] = {}
        for question in questions:
            if question.type == "choice":
                answers[question.id] = chooser.choice(question.values)
            elif question.type == "bool":
                answers[question.id] = chooser.random() < 0.5
            else:
                answers[question.id] = chooser.randint(question.minimum, question.maximum)
        found.append(answers)
    return found


def test_the_compilation_gives_the_same_verdicts_as_the_yaml(shipped: Path) -> None:
    compiled = precompiled.load_shipped()
    assert compiled is not None
    from_yaml = rules.load(advice.load_bank(), rules.rule_files(shipped))
    assert [r.id for r in compiled.rules] == [r.id for r in from_yaml.rules]
    assert [r.location for r in compiled.rules] == [r.location for r in from_yaml.rules]
    checked = 0
    for answers in profiles(300):
        same = [advice.to_json_data(advice.advise(ruleset, answers)) for ruleset in (compiled, from_yaml)]
        assert same[0] == same[1]
        checked += 1
    assert checked == 300


def test_an_edited_rule_file_is_read_not_its_old_compilation(shipped: Path) -> None:
    assert precompiled.load_shipped() is not None
    path = shipped / "scheduling.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Celery beat runs cron", "EDITED beat runs cron"), encoding="utf-8"
    )
    assert precompiled.load_shipped() is None
    assert advice.load_ruleset().find("beat-periodic-schedules").title.startswith("EDITED")


def test_a_new_rule_file_is_read_not_its_old_compilation(shipped: Path) -> None:
    (shipped / "extra.yaml").write_text(
        "version: 1\nrules:\n  - id: org-extra\n    title: An organisation's rule\n    when: {always: true}\n"
        "    effects: {celery: 1}\n    because: Policy.\n    sources: [https://example.org/policy]\n",
        encoding="utf-8",
    )
    assert precompiled.load_shipped() is None
    assert advice.load_ruleset().find("org-extra").id == "org-extra"


def test_rules_given_with_dash_dash_rules_are_always_read(shipped: Path, tmp_path: Path) -> None:
    org = tmp_path / "org"
    org.mkdir()
    (org / "policy.yaml").write_text(
        "version: 1\nrules:\n  - id: org-policy\n    title: Policy\n    when: {always: true}\n"
        "    effects: {crossbar: 1}\n    because: Policy.\n    sources: [https://example.org/policy]\n",
        encoding="utf-8",
    )
    assert precompiled.load_shipped() is not None
    assert advice.load_ruleset([org]).find("org-policy").id == "org-policy"


def test_a_damaged_compilation_is_ignored(shipped: Path, tmp_path: Path) -> None:
    path = tmp_path / "build" / precompiled.FILE_NAME
    stored_key = path.read_bytes().partition(b"\n")[0]
    path.write_bytes(stored_key + b"\nnot a pickle")
    assert precompiled.load_shipped() is None
    assert advice.load_ruleset().find("beat-periodic-schedules").id == "beat-periodic-schedules"


def test_an_option_is_never_taken_for_the_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert precompiled.main(["--help"]) == 2
    assert list(tmp_path.iterdir()) == []
