"""Decision model v2: requirements, "neither yet", confidence as fit, ties, severities, flips.

Profiles come from the issue that asked for the model, and random profiles check the
promises that must hold for every answer set.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import Result

from advisor import advice, engine, resources, rule_lint
from advisor.answers import complete

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
RULESET = advice.load_ruleset()
BANK = RULESET.questions
SCHEMA = json.loads((ROOT / "docs" / "recommendation.schema.json").read_text(encoding="utf-8"))
B2B_SAAS = {
    "scheduling": "critical",
    "browser_clients": "push",
    "durable_work": True,
    "retries": True,
    "job_duration": "minutes",
    "existing_broker": "redis",
    "progress_to_ui": True,
}
# A tie in the shipped rules (found by sampling): Celery and a hybrid both score 19.
TIE = {
    "latency": "relaxed",
    "scheduling": "light",
    "team_size": 11,
    "durable_work": True,
    "job_duration": "hours",
    "rate_limits": True,
    "fanout": True,
    "existing_broker": "sqs",
    "monitoring_ui": True,
}


def decide(**given: Any) -> engine.Verdict:
    return engine.decide(RULESET, complete(BANK, given))


def json_verdict(run: Run, *sets: str) -> dict[str, Any]:
    args = [part for item in sets for part in ("--set", item)]
    result = run("recommend", "--defaults", *args, "--format", "json")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def random_profiles(count: int, seed: int = 11) -> list[dict[str, Any]]:
    chooser = random.Random(seed)
    profiles = []
    for _ in range(count):
        answers: dict[str, Any] = {}
        for question in BANK.questions.values():
            if question.type == "choice":
                answers[question.id] = chooser.choice(question.values)
            elif question.type == "bool":
                answers[question.id] = chooser.random() < 0.3
            else:
                answers[question.id] = chooser.choice([1, 2, 3, 5, 8, 11, 40])
        profiles.append(answers)
    return profiles


def test_a_stated_licence_policy_is_never_contradicted(run: Run) -> None:
    data = json_verdict(
        run,
        "latency=realtime",
        "browser_clients=rpc",
        "caller_waits=true",
        "job_duration=ms",
        "fanout=true",
        "copyleft_ok=false",
    )
    assert data["recommendation"] not in ("crossbar", "hybrid")
    assert data["options"]["crossbar"]["unmet"] == ["crossbar-eupl-not-acceptable"]
    assert [r["rule"] for r in data["requirements"]] == ["crossbar-eupl-not-acceptable"]
    assert {"question": "copyleft_ok", "answer": True, "recommendation": "crossbar"} in data["flips"]


@pytest.mark.parametrize("team_size", [3, 5, 11, 40])
def test_a_saas_with_live_progress_gets_the_same_verdict_at_any_team_size(run: Run, team_size: int) -> None:
    sets = [f"{key}={str(value).lower()}" for key, value in B2B_SAAS.items()]
    data = json_verdict(run, *sets, f"team_size={team_size}")
    assert (data["recommendation"], data["tie"]) == ("celery", False)
    caveats = [caveat["rule"] for caveat in data["caveats"]]
    assert "live-updates-through-the-web-framework" in caveats, "the report must say how pages get their updates"


def test_a_connection_count_above_the_realm_ceiling_is_never_high(run: Run) -> None:
    data = json_verdict(
        run, "browser_clients=rpc", "fanout=true", "connections=huge", "router_ha=true", "latency=realtime"
    )
    assert data["recommendation"] in ("crossbar", "hybrid")
    assert data["confidence"] != "high"
    blocking = {caveat["rule"] for caveat in data["caveats"] if caveat["severity"] == "blocking"}
    assert {"crossbar-realm-ceiling-exceeded", "router-cluster-not-production-ready"} <= blocking


def test_a_solo_developer_with_one_light_cron_job_needs_neither_yet(run: Run) -> None:
    data = json_verdict(run, "team_size=1", "scheduling=light")
    assert (data["recommendation"], data["confidence"]) == ("neither", "high")
    assert {"question": "durable_work", "answer": True, "recommendation": "celery"} in data["flips"]


@pytest.mark.parametrize(
    ("sets", "verdict", "caveat"),
    [
        (["browser_clients=rpc", "fanout=true", "router_ha=true"], "crossbar", "router-cluster-not-production-ready"),
        (["durable_work=true", "asyncio_first=true"], "celery", "celery-tasks-are-not-async"),
        (["windows=true", "browser_clients=rpc", "fanout=true"], "crossbar", "crossbar-windows-docs-stale"),
    ],
)
def test_a_conflict_between_the_verdict_and_an_answer_is_a_caveat(
    run: Run, sets: list[str], verdict: str, caveat: str
) -> None:
    data = json_verdict(run, *sets)
    assert data["recommendation"] == verdict
    assert caveat in [item["rule"] for item in data["caveats"]]


def test_the_windows_requirement_does_not_advise_wsl() -> None:
    windows = [rule for rule in RULESET.rules if "windows" in rule.id]
    assert windows
    for rule in windows:
        assert "WSL" not in rule.because, rule.id


def test_caveats_shown_apply_to_the_verdict_and_come_most_severe_first() -> None:
    checked = 0
    for answers in random_profiles(400):
        verdict = engine.decide(RULESET, answers)
        assert all(verdict.recommendation in rule.applies_to for rule in verdict.caveats)
        ranks = [("blocking", "important", "note").index(rule.severity) for rule in verdict.caveats]
        assert ranks == sorted(ranks)
        checked += len(ranks)
    assert checked > 400


def test_no_verdict_fails_a_requirement_while_another_option_meets_them_all() -> None:
    forced = 0
    for answers in random_profiles(2000):
        verdict = engine.decide(RULESET, answers)
        if verdict.eligible:
            assert verdict.recommendation in verdict.eligible
            best = max(verdict.scores[option] for option in verdict.eligible)
            assert verdict.scores[verdict.recommendation] == best
            forced += any(verdict.scores[o] > best for o in verdict.scores if o not in verdict.eligible)
        else:
            assert verdict.confidence == "low"
    assert forced > 0, "some sampled profile must have had its best score ruled out by a requirement"


def test_high_confidence_means_fit_not_just_margin() -> None:
    high = 0
    for answers in random_profiles(2000):
        verdict = engine.decide(RULESET, answers)
        if verdict.confidence == "high":
            high += 1
            assert verdict.meets_requirements and not verdict.tie and not verdict.blocking
            assert verdict.runner_up is None or verdict.margin >= engine.HIGH_MARGIN
    assert high > 0


def test_a_tie_is_reported_as_a_tie(run: Run) -> None:
    verdict = decide(**TIE)
    assert verdict.tie and verdict.confidence == "low"
    text = " ".join(
        run("recommend", "--defaults", *[f"--set={k}={str(v).lower()}" for k, v in TIE.items()]).out.split()
    )
    assert "Confidence low: Celery and Hybrid (Celery + Crossbar.io) tie at" in text
    assert "the tie goes to the simpler stack, Celery" in text
    assert "This verdict is fragile" in text


def test_when_no_option_meets_every_requirement_the_report_says_so_first(run: Run) -> None:
    result = run("recommend", "--defaults", "--set", "windows=true", "--set", "durable_work=true")
    assert result.code == 0
    assert result.out.splitlines()[1].startswith("Confidence low: no option meets every requirement, and Celery is")
    data = json_verdict(run, "windows=true", "durable_work=true")
    assert data["confidence"] == "low"
    assert not any(option["eligible"] for option in data["options"].values())


def test_text_and_markdown_show_at_most_five_flips_and_json_all(run: Run) -> None:
    sets: list[str] = []  # the defaults: "neither yet", with many answers that would change it
    data = json_verdict(run, *sets)
    assert data["confidence"] == "medium", "not fragile, so five are shown"
    assert len(data["flips"]) > 5
    args = ["recommend", "--defaults", *[f"--set={item}" for item in sets]]
    text, markdown = run(*args).out, run(*args, "--format", "markdown").out
    assert text.count(" -> ") == 5
    assert f"and {len(data['flips']) - 5} more" in text
    assert f"and {len(data['flips']) - 5} more" in markdown


def test_new_on_a_neither_verdict_scaffolds_nothing_and_says_how(run: Run, in_tmp: Path) -> None:
    result = run("new", "svc", "--defaults")
    assert result.code == 2
    assert "nothing to scaffold" in result.err and "--stack" in result.err
    assert not (in_tmp / "svc").exists()
    assert run("new", "svc", "--defaults", "--stack", "celery").code == 0


def test_every_scenarios_json_validates_against_the_shipped_schema() -> None:
    scenarios = rule_lint.load_scenarios(resources.rules_dir() / "scenarios.yaml", BANK)
    assert scenarios
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for scenario in scenarios:
        document = advice.to_json_data(advice.advise(RULESET, complete(BANK, scenario.answers)))
        assert list(validator.iter_errors(document)) == [], scenario.id


def test_the_schema_rejects_a_v1_document() -> None:
    v1 = {"schema": "advisor.recommendation/1", "recommendation": "celery", "confidence": "high"}
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(v1))
