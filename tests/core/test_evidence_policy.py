"""The release policy file: the sample, validation naming the field, rule lookup, the hash."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from bot.core.evidence.metrics import base_metric
from bot.core.evidence.policy import PolicyError, load_policy, parse_policy, policy_from_data

MINIMAL: dict[str, Any] = {
    "id": "team-policy",
    "version": "1",
    "rules": [{"metric": "task_success_rate", "floor": 0.9, "max_regression": {"absolute": 0.02}}],
}


def expect_error(changes: dict[str, Any], fragment: str) -> None:
    data = copy.deepcopy(MINIMAL) | changes
    with pytest.raises(PolicyError) as info:
        policy_from_data(data, "team-policy.yaml")
    message = str(info.value)
    assert message.startswith("team-policy.yaml: ")
    assert fragment in message
    assert "\n" not in message


def test_sample_policy_covers_every_metric_the_checklist_names(checklist):
    policy = load_policy()
    assert policy.system == "support-search-assistant"
    assert (policy.confidence, policy.latency_tolerance, policy.min_sample) == (0.95, 0.10, 200)
    covered = {rule.metric for rule in policy.rules}
    named = {base_metric(m) for item in checklist.items for m in item.metrics}
    assert named and named <= covered


def test_defaults():
    policy = policy_from_data(copy.deepcopy(MINIMAL))
    assert (policy.system, policy.confidence, policy.latency_tolerance, policy.min_sample) == (
        None,
        0.95,
        0.10,
        30,
    )
    rule = policy.rules[0]
    assert policy.min_sample_for(rule) == 30 and policy.confidence_for(rule) == 0.95


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"rules": [{"metric": "made_up", "floor": 1}]}, "rules.0.metric: unknown metric 'made_up'"),
        (
            {"rules": [{"metric": "task_success_rate", "floor": 0.9, "ceiling": 0.8}]},
            "floor 0.9 is above ceiling 0.8",
        ),
        ({"rules": [{"metric": "task_success_rate", "max_regression": {"relative": 1.5}}]}, "relative"),
        ({"rules": [{"metric": "task_success_rate", "max_regression": {"relative": 0}}]}, "relative"),
        (
            {
                "rules": [
                    {"metric": "task_success_rate", "max_regression": {"absolute": 0.1, "relative": 0.1}}
                ]
            },
            "exactly one of absolute or relative",
        ),
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0.5}, "confidence"),
        ({"min_sample": 0}, "min_sample"),
        ({"rules": [{"metric": "task_success_rate", "floor": 0.9, "min_sample": 0}]}, "rules.0.min_sample"),
        ({"rules": [{"metric": "task_success_rate", "floor": 0.9, "confidence": 0.3}]}, "rules.0.confidence"),
        (
            {"rules": [{"metric": "task_success_rate", "floor": 90}]},
            "rules.0.floor: task_success_rate is a rate",
        ),
        ({"rules": [{"metric": "task_success_rate"}]}, "give a floor, a ceiling or max_regression"),
        ({"rules": []}, "rules"),
        ({"rules": [{"metric": "task_success_rate", "floor": 0.9, "flor": 1}]}, "rules.0.flor"),
        (
            {
                "rules": [
                    {"metric": "task_success_rate", "floor": 0.9},
                    {"metric": "task_success_rate", "floor": 0.8},
                ]
            },
            "rules.1: rule 0 already covers task_success_rate for all cohorts",
        ),
        (
            {
                "rules": [
                    {"metric": "task_success_rate", "floor": 0.9, "cohorts": ["a"]},
                    {"metric": "task_success_rate", "floor": 0.8, "cohorts": ["b", "a"]},
                ]
            },
            "rule 0 already covers task_success_rate for cohort a",
        ),
        ({"metrics": {"task_success_rate": {"unit": "ms", "direction": "lower"}}}, "known metric"),
        ({"id": "Bad Id"}, "id"),
    ],
)
def test_bad_policies_name_the_field(changes, fragment):
    expect_error(changes, fragment)


def test_declared_metrics_can_be_ruled_on():
    policy = policy_from_data(
        copy.deepcopy(MINIMAL)
        | {
            "metrics": {"csat": {"unit": "points", "direction": "higher"}},
            "rules": [{"metric": "csat", "floor": 4.0}],
        }
    )
    assert policy.spec("csat").unit == "points"


def test_rule_lookup_prefers_exact_metric_then_named_cohort():
    policy = policy_from_data(
        copy.deepcopy(MINIMAL)
        | {
            "rules": [
                {"metric": "major_failure_rate", "ceiling": 0.02},
                {"metric": "major_failure_rate", "ceiling": 0.01, "cohorts": ["eu-legal"]},
                {"metric": "major_failure_rate:data_leak", "ceiling": 0.0},
                {"metric": "task_success_rate", "floor": 0.9, "cohorts": ["workflow=refund, tenant=acme"]},
            ]
        }
    )
    assert policy.rule_for("us-smb", "major_failure_rate").ceiling == 0.02
    assert policy.rule_for("eu-legal", "major_failure_rate").ceiling == 0.01
    assert policy.rule_for("eu-legal", "major_failure_rate:timeout").ceiling == 0.01
    assert policy.rule_for("eu-legal", "major_failure_rate:data_leak").ceiling == 0.0
    assert policy.rule_for("tenant=acme,workflow=refund", "task_success_rate").floor == 0.9
    assert policy.rule_for("us-smb", "task_success_rate") is None
    assert policy.named_cohorts == ("eu-legal", "tenant=acme,workflow=refund")


def test_content_hash_ignores_layout_but_not_content():
    policy = load_policy()
    data = yaml.safe_load(policy.model_dump_json())
    relaid = parse_policy(yaml.safe_dump(data, sort_keys=True, default_flow_style=True))
    assert relaid.content_hash == policy.content_hash
    data["rules"][0]["floor"] = 0.86
    assert policy_from_data(data).content_hash != policy.content_hash


def test_file_problems_are_policy_errors(tmp_path):
    with pytest.raises(PolicyError, match="cannot read file"):
        load_policy(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="expected a mapping"):
        parse_policy("- a\n- b\n")


def test_cohorts_must_be_all_or_a_list():
    rule = {"metric": "task_success_rate", "floor": 0.9}
    expect_error(
        {"rules": [rule | {"cohorts": "eu-legal"}]}, "rules.0.cohorts: say all, or list the cohort names"
    )
    expect_error({"rules": [rule | {"cohorts": ["a", "a"]}]}, "a cohort is listed twice")
