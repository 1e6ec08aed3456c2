"""The guide the reports draw on: a cost and a staged path for every outcome, fitted to the
answers, and terms that are all used somewhere, longest first; a broken guide file is
reported with locations like every other data file."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import Result

from advisor import advice, answers, guide, precompiled, rule_lint, rules, schema
from advisor.errors import DataError

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
GUIDE_PATH = ROOT / "rules" / guide.FILE_NAME
BANK = advice.load_bank()
GUIDE = guide.load(GUIDE_PATH, BANK)
TEXT = GUIDE_PATH.read_text(encoding="utf-8")
VALIDATOR = jsonschema.Draft202012Validator(json.loads(schema.JSON_SCHEMA_PATH.read_text(encoding="utf-8")))


def answered(**given: Any) -> dict[str, Any]:
    """Complete answers: the defaults with `given` on top."""
    return answers.complete(BANK, given)


def titles(outcome: str, **given: Any) -> list[str]:
    return [stage.title for stage in GUIDE.stages(outcome, answered(**given))]


def answer_sets() -> list[dict[str, Any]]:
    """The scenarios' answers, and the defaults with each single answer changed to each value."""
    found = [answered()]
    found += [answered(**s.answers) for s in rule_lint.load_scenarios(ROOT / "rules" / "scenarios.yaml", BANK)]
    for question in BANK.questions.values():
        values: list[Any] = question.values if question.type == "choice" else [True, False]
        if question.type == "int":
            values = [question.minimum, question.maximum]
        found += [answered(**{question.id: value}) for value in values]
    return found


# The shipped guide.


def test_every_outcome_has_a_cost_with_sentences_and_https_sources() -> None:
    assert list(GUIDE.costs) == list(rules.OPTIONS)
    for option, cost in GUIDE.costs.items():
        assert cost.option == option
        assert all(getattr(cost, name).strip() for name in ("deploy", "secure", "monitor", "upgrade")), option
        assert cost.sources, option
    sources = [s for c in GUIDE.costs.values() for s in c.sources]
    sources += [s for entry in GUIDE.stage_entries for s in entry.stage.sources]
    sources += [term.source for term in GUIDE.terms]
    assert len(sources) > 60
    assert [s for s in sources if not schema.SOURCE_URL.match(s)] == []


def test_the_costs_follow_the_answers_and_the_answer_free_costs_say_when() -> None:
    assert "exactly one celery beat, if you schedule work" in GUIDE.costs["celery"].processes
    with_schedules = GUIDE.cost("celery", answered(scheduling="critical"))
    without = GUIDE.cost("celery", answered(scheduling="none"))
    assert "exactly one celery beat, for the schedules" in with_schedules.processes
    assert not [p for p in without.processes if "beat" in p]
    assert (
        GUIDE.cost("hybrid", answered(existing_broker="redis")).services[0]
        == "the Redis you already run, as the broker"
    )
    assert GUIDE.cost("celery", answered(existing_broker="rabbitmq")).services[0].startswith("the RabbitMQ you")
    assert GUIDE.costs["celery"].services[0] == "a broker: Redis, RabbitMQ or Amazon SQS"
    # The web application alone: nothing to run beside it unless work is scheduled.
    assert GUIDE.cost("neither", answered(scheduling="none")).services == ()
    assert GUIDE.cost("neither", answered(scheduling="none")).processes == ()
    assert GUIDE.cost("neither", answered(scheduling="light")).processes != ()


def test_the_staged_path_starts_with_what_the_user_runs() -> None:
    assert titles("celery", existing_broker="redis")[0] == "Start with Celery on the Redis you run"
    assert titles("celery", existing_broker="rabbitmq")[0] == "Start with Celery on the RabbitMQ you run"
    assert titles("celery", existing_broker="none")[0] == "Start with Celery and one broker"
    assert "Add exactly one celery beat for the schedules" in titles("celery", scheduling="light")
    assert "Add exactly one celery beat for the schedules" not in titles("celery", scheduling="none")


def test_browsers_that_already_call_procedures_make_the_other_half_a_milestone_not_a_someday() -> None:
    assert titles("celery", browser_clients="rpc")[-1] == "Plan Crossbar.io as the second milestone"
    later = titles("celery", browser_clients="none")[-1]
    assert later == "Add Crossbar.io only when live clients need more than the web application"
    assert "Add the Crossbar.io router as the second milestone" in titles("hybrid", browser_clients="rpc")
    assert "Add the Crossbar.io router as the second milestone" not in titles("hybrid", browser_clients="push")
    assert (
        titles("hybrid", browser_clients="push")[0] == "Start with the Celery half and the web application's own push"
    )
    assert titles("celery", iot_devices=True)[-1] == "Plan Crossbar.io as the second milestone"
    assert titles("crossbar", durable_work=True)[-1] == "Plan Celery as the second milestone"
    assert titles("crossbar", retries=True)[-1] == "Plan Celery as the second milestone"
    assert titles("crossbar", durable_work=False)[-1] == "Add Celery when work must outlive a connection"


def test_neither_starts_in_one_process_and_says_what_would_add_each_system() -> None:
    path = titles("neither", scheduling="light")
    assert path[0] == "Start in one process, your web application"
    assert "Run the periodic jobs from cron or a systemd timer" in path
    assert [title for title in path if title.startswith("Add Celery")]
    assert [title for title in path if title.startswith("Add Crossbar.io")]
    assert "Run the periodic jobs from cron or a systemd timer" not in titles("neither", scheduling="none")
    # What the answers already name is not "if it changes" but "soon".
    assert "Expect to add Crossbar.io soon" in titles("neither", browser_clients="rpc")
    assert "Expect to add Celery soon" in titles("neither", job_duration="minutes")
    assert not [title for title in titles("neither") if title.startswith("Expect")]


def test_every_outcome_has_two_to_four_stages_whatever_the_answers() -> None:
    sets = answer_sets()
    assert len(sets) > 80
    counts = {(option, len(GUIDE.stages(option, given))) for given in sets for option in rules.OPTIONS}
    assert {count for _, count in counts} <= {2, 3, 4}, sorted(counts)


def test_each_stage_names_the_questions_that_choose_it() -> None:
    stages = GUIDE.stages("celery", answered(browser_clients="none", existing_broker="redis"))
    assert stages[0].questions == ("existing_broker",)
    assert stages[-1].questions == ("browser_clients", "iot_devices", "polyglot")
    assert GUIDE.stages("neither", answered())[0].questions == ()


def test_the_stages_that_would_add_a_system_name_the_question_in_its_words() -> None:
    prompts = {question.prompt for question in BANK.questions.values()}
    adding = [entry.stage for entry in GUIDE.stage_entries if entry.stage.title.startswith("Add Crossbar")]
    adding += [entry.stage for entry in GUIDE.stage_entries if entry.stage.title.startswith("Add Celery")]
    assert len(adding) >= 4
    for stage in adding:
        named = [prompt for prompt in prompts if prompt.rstrip("?") in " ".join(stage.text.split())]
        assert named, stage.title


# Terms.


def report_texts() -> str:
    """Every text a report can show: rules, questions, report templates, the text output, the guide."""
    ruleset = advice.load_ruleset()
    parts = [f"{rule.title}\n{rule.because}" for rule in ruleset.rules]
    parts += [f"{q.prompt}\n{q.help}" for q in ruleset.questions.questions.values()]
    parts += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "templates" / "reports").glob("*.j2"))]
    parts += [(ROOT / "advisor" / "render" / name).read_text(encoding="utf-8") for name in ("text.py", "view.py")]
    for cost in GUIDE.costs.values():
        parts += [*cost.services, *cost.processes, cost.deploy, cost.secure, cost.monitor, cost.upgrade]
    parts += [f"{entry.stage.title}\n{entry.stage.text}" for entry in GUIDE.stage_entries]
    return "\n".join(parts)


def test_every_term_appears_in_text_a_report_shows() -> None:
    used = set(GUIDE.terms_in(report_texts()))
    assert len(GUIDE.terms) > 25
    assert [term.term for term in GUIDE.terms if term not in used] == []


def test_the_jargon_the_issue_names_is_explained() -> None:
    for name in ("acks_late", "prefetch", "visibility timeout", "callee", "realm", "EUPL", "idempotent", "SSE"):
        found = GUIDE.term(name)
        assert found is not None and found.meaning and len(found.meaning) <= 160, name


def test_terms_come_longest_first_so_the_longer_term_wins() -> None:
    lengths = [len(term.term) for term in GUIDE.terms]
    assert lengths == sorted(lengths, reverse=True)
    found = GUIDE.terms_in("Tune worker_prefetch_multiplier before prefetch; WAMP-CRA is not WAMP.")
    assert [term.term for term in found] == ["worker_prefetch_multiplier", "prefetch", "WAMP-CRA", "WAMP"]


def test_terms_are_found_in_any_case_and_in_the_plural_once_each_in_order_of_first_use() -> None:
    found = GUIDE.terms_in(
        "Callees register in realms; the Callee answers a caller. No callees_like words, no realmy; EUPL-1.2."
    )
    assert [term.term for term in found] == ["callee", "realm", "caller", "EUPL"]
    assert GUIDE.terms_in("the broker's visibility timeout")[1].term == "visibility timeout"


# Broken guide files: located problems, exit 2, and the JSON Schema refuses them too.


def broken(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


# (what, guide text, the loader's problem code); the last two need the question bank, which
# the JSON Schema for editors does not know (as for rules' conditions).
BROKEN = [
    ("unknown key", broken("    - option: celery\n", "    - option: celery\n      cost: 3\n"), "unknown-key"),
    ("unknown outcome", broken("    - option: neither\n", "    - option: kafka\n"), "bad-value"),
    (
        "http source",
        broken("source: https://docs.celeryq.dev/en/stable/g", "source: http://docs.celeryq.dev/en/stable/g"),
        "bad-source",
    ),
    (
        "meaning too long",
        broken("meaning: a web dashboard of Celery tasks and workers", "meaning: " + "x" * 161),
        "too-long",
    ),
    (
        "no title",
        broken("      title: Start with one Crossbar.io router and your backend components\n", ""),
        "missing-key",
    ),
    ("unknown question", broken("when: {existing_broker: redis}", "when: {broker: redis}"), "unknown-question"),
    ("bad answer", broken("when: {existing_broker: redis}", "when: {existing_broker: kafka}"), "bad-value"),
]
SCHEMA_KNOWS = 5


@pytest.mark.parametrize("what,text,code", BROKEN, ids=[row[0] for row in BROKEN])
def test_a_broken_guide_is_located_and_refused_by_lint_with_exit_2(
    run: Run, tmp_path: Path, what: str, text: str, code: str
) -> None:
    (tmp_path / "guide.yaml").write_text(text, encoding="utf-8")
    linted = run("rules", "lint", str(tmp_path))
    assert linted.code == 2
    located = re.compile(rf"^{re.escape(str(tmp_path / 'guide.yaml'))}:\d+:\d+: error\[{code}\]: ")
    assert [line for line in linted.err.splitlines() if located.match(line)], linted.err


@pytest.mark.parametrize("what,text,code", BROKEN[:SCHEMA_KNOWS], ids=[row[0] for row in BROKEN[:SCHEMA_KNOWS]])
def test_the_json_schema_refuses_what_the_loader_refuses(what: str, text: str, code: str) -> None:
    assert list(VALIDATOR.iter_errors(yaml.safe_load(text))), "the JSON Schema accepts what the loader refuses"


def test_an_outcome_without_a_cost_or_stages_and_a_term_twice_are_errors(tmp_path: Path) -> None:
    text = re.sub(r"    - option: neither\n(?:      .*\n|        .*\n)*", "", TEXT)
    text = re.sub(r"    - outcome: neither\n(?:      .*\n|        .*\n)*", "", text)
    text = text.replace("- term: copyleft", "- term: EUPL")
    path = tmp_path / "guide.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        guide.load(path, BANK)
    codes = [problem.code for problem in raised.value.problems]
    assert codes.count("missing-cost") == 1 and codes.count("missing-stages") == 1 and "duplicate-term" in codes


def test_the_shipped_guide_validates_against_the_json_schema() -> None:
    assert [error.message for error in VALIDATOR.iter_errors(yaml.safe_load(TEXT))] == []


# Where it is read from, and what reads it.


def test_rule_loading_never_reads_the_guide_as_rules(run: Run, tmp_path: Path) -> None:
    assert GUIDE_PATH not in rules.rule_files(ROOT / "rules")
    (tmp_path / "guide.yaml").write_text(broken("    - option: neither\n", "    - option: kafka\n"), encoding="utf-8")
    recommended = run("recommend", "--defaults", "--rules", str(tmp_path), "--format", "json")
    assert recommended.code == 0, recommended.err


def test_a_rule_set_reaches_the_shipped_guide() -> None:
    ruleset = advice.load_ruleset()
    assert [stage.title for stage in ruleset.guide.stages("neither", answered())] == titles("neither")


def test_the_compiled_guide_is_the_yaml_one_and_an_edit_is_never_shadowed(shipped: Path) -> None:
    compiled = precompiled.load_shipped_guide()
    assert compiled is not None
    for given in answer_sets():
        for option in rules.OPTIONS:
            assert [vars(s) for s in compiled.stages(option, given)] == [vars(s) for s in GUIDE.stages(option, given)]
            assert vars(compiled.cost(option, given)) == vars(GUIDE.cost(option, given))
    assert [vars(term) for term in compiled.terms] == [vars(term) for term in GUIDE.terms]
    path = shipped / guide.FILE_NAME
    path.write_text(path.read_text(encoding="utf-8").replace("Start in one process", "EDITED"), encoding="utf-8")
    assert precompiled.load_shipped_guide() is None
