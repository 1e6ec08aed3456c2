"""`advisor rules lint` and `--rules DIR`: broken rule files are caught with locations."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from conftest import Result

from advisor import advice, resources, rule_lint, rules

Run = Callable[..., Result]

GOOD_RULE = """\
version: 1
rules:
  - id: org-policy-prefers-celery
    title: Our platform team supports Celery only
    when: {team_size: {at_least: 20}}
    effects: {celery: 5}
    because: The platform team runs RabbitMQ and Celery for every product.
    sources: [https://intranet.example.org/adr/0042]
"""
GOOD_CASES = """\
version: 1
cases:
  - name: a large team gets the policy
    answers: {team_size: 25}
    fires: [org-policy-prefers-celery]
  - name: a small team does not
    answers: {team_size: 5}
    not_fires: [org-policy-prefers-celery]
"""


def make_dir(tmp_path: Path, rules: str, cases: str | None) -> Path:
    directory = tmp_path / "org-rules"
    directory.mkdir()
    (directory / "policy.yaml").write_text(rules, encoding="utf-8")
    if cases is not None:
        (directory / "policy.cases.yaml").write_text(cases, encoding="utf-8")
    return directory


def lint_errors(run: Run, directory: Path) -> list[str]:
    result = run("rules", "lint", str(directory))
    assert result.code == 2, result.out
    return [line.split(str(directory) + "/", 1)[1] for line in result.err.strip().splitlines()]


def test_a_valid_rule_directory_passes(run: Run, tmp_path: Path) -> None:
    result = run("rules", "lint", str(make_dir(tmp_path, GOOD_RULE, GOOD_CASES)))
    assert (result.code, result.out) == (0, "ok: 1 rules in 1 files, 2 cases, 0 scenarios\n")


GOOD_SCENARIO = """\
  - id: large-team-back-office
    profile: A 25-engineer team runs durable back-office jobs and nothing live.
    answers: {team_size: 25, durable_work: true}
    expect: celery
    argument: The policy and the durable work both point to Celery.
"""


def test_shipped_lint_runs_every_case_and_every_scenario(run: Run) -> None:
    result = run("rules", "lint")
    assert result.code == 0, result.err
    counts = re.fullmatch(r"ok: (\d+) rules in (\d+) files, (\d+) cases, (\d+) scenarios\n", result.out)
    assert counts, result.out
    ruleset = advice.load_ruleset()
    topics = rules.rule_files(resources.rules_dir())
    cases = sum(len(rules.load_cases(rules.cases_file(topic), ruleset)) for topic in topics)
    scenarios = len(rule_lint.load_scenarios(resources.rules_dir() / "scenarios.yaml", ruleset.questions))
    assert [int(n) for n in counts.groups()] == [len(ruleset.rules), len(topics), cases, scenarios]
    assert min(cases, scenarios) > 0


def test_scenarios_in_a_rules_directory_are_run(run: Run, tmp_path: Path) -> None:
    directory = make_dir(tmp_path, GOOD_RULE, GOOD_CASES)
    (directory / "scenarios.yaml").write_text("version: 1\nscenarios:\n" + GOOD_SCENARIO, encoding="utf-8")
    result = run("rules", "lint", str(directory))
    assert (result.code, result.out) == (0, "ok: 1 rules in 1 files, 2 cases, 1 scenarios\n")
    wrong = GOOD_SCENARIO.replace("large-team-back-office", "argued-wrongly")
    wrong = wrong.replace("expect: celery", "expect: crossbar")
    (directory / "scenarios.yaml").write_text("version: 1\nscenarios:\n" + GOOD_SCENARIO + wrong, encoding="utf-8")
    errors = lint_errors(run, directory)
    assert len(errors) == 1
    assert errors[0].startswith(
        "scenarios.yaml:8:5: error[scenario-failed]: scenario 'argued-wrongly' expects crossbar, the rules say celery"
    )


def test_unknown_question_operator_and_value_are_located(run: Run, tmp_path: Path) -> None:
    broken = GOOD_RULE.replace(
        "when: {team_size: {at_least: 20}}",
        "when:\n      teamsize: 3\n      latency: {above: realtime}\n"
        "      browser_clients: {in: [push, websocket]}\n      durable_work: 'true'",
    )
    errors = lint_errors(run, make_dir(tmp_path, broken, GOOD_CASES))
    assert errors == [
        "policy.yaml:6:7: error[unknown-question]: unknown question 'teamsize' (did you mean 'team_size'?)",
        "policy.yaml:7:17: error[unknown-operator]: unknown operator 'above' "
        "(allowed: equals, not_equals, in, not_in, at_least, at_most)",
        "policy.yaml:8:36: error[bad-value]: 'browser_clients': 'websocket' is not a choice (allowed: none, push, rpc)",
        "policy.yaml:9:21: error[bad-value]: 'durable_work': expected yes or no, not text 'true' "
        "(allowed: yes, no, true, false)",
    ]


def test_schema_problems_are_all_reported(run: Run, tmp_path: Path) -> None:
    broken = GOOD_RULE.replace("    when:", "    whne:").replace("effects: {celery: 5}", "effects: {celery: 9}")
    broken = broken.replace("[https://intranet.example.org/adr/0042]", "[intranet/adr/42]")
    errors = lint_errors(run, make_dir(tmp_path, broken, GOOD_CASES))
    assert errors == [
        "policy.yaml:3:5: error[missing-key]: a rule has no 'when' (add 'when:')",
        "policy.yaml:5:5: error[unknown-key]: unknown key 'whne' in a rule (did you mean 'when'?)",
    ]
    fixed = broken.replace("whne:", "when:")
    (tmp_path / "fixed").mkdir()
    errors = lint_errors(run, make_dir(tmp_path / "fixed", fixed, GOOD_CASES))
    assert errors == [
        "policy.yaml:6:23: error[out-of-range]: 'effects.celery' is 9; it must be from -5 to 5",
        "policy.yaml:8:15: error[bad-source]: source 'intranet/adr/42' is not an https URL "
        "(cite official docs, a spec, an issue thread or a measurement by URL)",
    ]


def test_duplicate_rule_ids_name_both_places(run: Run, tmp_path: Path) -> None:
    doubled = GOOD_RULE + GOOD_RULE.split("rules:\n", 1)[1]
    errors = lint_errors(run, make_dir(tmp_path, doubled, GOOD_CASES))
    assert errors == [
        "policy.yaml:9:1: error[duplicate-rule]: rule id 'org-policy-prefers-celery' is already defined "
        f"(first at {tmp_path}/org-rules/policy.yaml:3; set override: true in a --rules file to replace it)",
    ]


def test_a_rule_no_case_fires_is_an_error(run: Run, tmp_path: Path) -> None:
    cases = (
        GOOD_CASES.split("  - name: a large")[0] + "  - name: only small\n    answers: {team_size: 5}\n"
        "    not_fires: [org-policy-prefers-celery]\n"
    )
    errors = lint_errors(run, make_dir(tmp_path, GOOD_RULE, cases))
    assert errors == [
        "policy.yaml:3:1: error[rule-never-fires]: no case fires rule 'org-policy-prefers-celery' "
        "(add a case to policy.cases.yaml)",
    ]


def test_failing_cases_and_missing_cases_files_are_errors(run: Run, tmp_path: Path) -> None:
    wrong = GOOD_CASES.replace("answers: {team_size: 25}", "answers: {team_size: 19}")
    errors = lint_errors(run, make_dir(tmp_path, GOOD_RULE, wrong))
    assert errors[0] == (
        "policy.cases.yaml:3:5: error[case-failed]: case 'a large team gets the policy': "
        "rule 'org-policy-prefers-celery' did not fire"
    )
    (tmp_path / "x").mkdir()
    assert lint_errors(run, make_dir(tmp_path / "x", GOOD_RULE, None)) == [
        "policy.yaml:1:1: error[no-cases]: no cases file policy.cases.yaml beside this file "
        "(every rule needs a case that fires it)",
    ]


def test_user_rules_add_to_the_verdict(run: Run, tmp_path: Path) -> None:
    directory = make_dir(tmp_path, GOOD_RULE, GOOD_CASES)
    args = ("recommend", "--set", "team_size=25", "--set", "browser_clients=rpc", "--format", "json")
    with_policy = json.loads(run(*args, "--rules", str(directory)).out)
    assert "org-policy-prefers-celery" in [fired["rule"] for fired in with_policy["fired"]]
    without = json.loads(run(*args).out)
    assert with_policy["scores"]["celery"] == without["scores"]["celery"] + 5


def test_overriding_a_shipped_rule_needs_override_true(run: Run, tmp_path: Path) -> None:
    shipped = run("rules", "list").out.split()[0]
    clash = GOOD_RULE.replace("org-policy-prefers-celery", shipped)
    directory = make_dir(tmp_path, clash, GOOD_CASES.replace("org-policy-prefers-celery", shipped))
    refused = run("recommend", "--defaults", "--rules", str(directory))
    assert refused.code == 2
    assert f"error[duplicate-rule]: rule id '{shipped}' is already defined" in refused.err
    (directory / "policy.yaml").write_text(
        clash.replace("    because:", "    override: true\n    because:"), encoding="utf-8"
    )
    accepted = run("rules", "show", shipped, "--rules", str(directory))
    assert accepted.code == 0
    assert "Our platform team supports Celery only" in accepted.out
