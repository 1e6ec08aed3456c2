"""The experiments' declared evidence points at rules that exist."""

from __future__ import annotations

from advisor import advice
from advisor.bench.experiments import EXPERIMENTS, IDS


def test_every_experiment_names_rules_that_exist_and_ids_are_unique() -> None:
    known = {rule.id for rule in advice.load_ruleset().rules}
    assert len(set(IDS)) == len(IDS) == 6
    for experiment in EXPERIMENTS:
        assert experiment.rules, experiment.id
        assert set(experiment.rules) <= known, experiment.id
