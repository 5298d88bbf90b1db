"""Evidence files: rows in JSON and CSV, every bad row refused with its number, stable hashes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.evidence.evidence_set import (
    EvidenceError,
    RowProblem,
    evidence_from_data,
    load_evidence,
    parse_evidence,
)
from bot.core.evidence.metrics import KNOWN_METRICS, Direction, Kind, base_metric, canonical_cohort, lookup


def row(**overrides):
    base = {"cohort": "eu-legal", "metric": "task_success_rate", "value": 0.9, "n": 200, "count": 180}
    return {**base, **overrides}


def data(*rows, **top):
    return {"system": "search", "version": "2.4.0", **top, "rows": list(rows)}


def problems(raw, **kwargs) -> list[RowProblem]:
    with pytest.raises(EvidenceError) as info:
        evidence_from_data(raw, **kwargs)
    return info.value.problems


def test_registry_knows_the_checklist_metrics_with_directions():
    assert KNOWN_METRICS["task_success_rate"].direction is Direction.HIGHER
    assert KNOWN_METRICS["escalation_rate"].direction is Direction.LOWER
    assert KNOWN_METRICS["latency_p99_rerank"].kind is Kind.LATENCY
    assert KNOWN_METRICS["latency_p99_rerank"].unit == "ms"
    assert lookup("major_failure_rate:wrong_action") == KNOWN_METRICS["major_failure_rate"]
    assert lookup("task_success_rate:refund") is None  # only classed metrics take a suffix
    assert base_metric("major_failure_rate:timeout") == "major_failure_rate"
    assert len([m for m in KNOWN_METRICS if m.startswith("latency_")]) == 15


def test_a_good_json_set_is_read_and_sorted():
    evidence = evidence_from_data(
        data(
            row(cohort="us-smb", metric="latency_p95_end_to_end", value=2100, n=400, count=None),
            row(cohort={"workflow": "refund", "tenant": "acme"}),
            row(
                metric="major_failure_rate:wrong_action",
                value=0.01,
                n=400,
                count=4,
                source="https://x.example/1",
            ),
        )
    )
    assert (evidence.system, evidence.version) == ("search", "2.4.0")
    assert [(r.cohort, r.metric) for r in evidence.rows] == [
        ("eu-legal", "major_failure_rate:wrong_action"),
        ("tenant=acme,workflow=refund", "task_success_rate"),
        ("us-smb", "latency_p95_end_to_end"),
    ]
    assert evidence.rows[0].source == "https://x.example/1"
    assert evidence.cohorts == ("eu-legal", "tenant=acme,workflow=refund", "us-smb")
    assert evidence.row("us-smb", "latency_p95_end_to_end").value == 2100.0


def test_cohort_labels_are_canonical():
    assert canonical_cohort(" workflow=refund , tenant=acme ") == "tenant=acme,workflow=refund"
    assert canonical_cohort({"tenant": "acme", "language": "ja"}) == "language=ja,tenant=acme"
    assert canonical_cohort("  jp-support ") == "jp-support"
    for bad in ("", "tenant=acme,tenant=beta", "tenant=", "a,b", {"k": "a,b"}, 5):
        with pytest.raises(ValueError):
            canonical_cohort(bad)


def test_reordered_rows_and_label_order_give_the_same_hash():
    rows = [
        row(cohort={"tenant": "acme", "workflow": "refund"}),
        row(cohort="jp-support", value=0.8, count=160),
    ]
    first = evidence_from_data(data(*rows))
    second = evidence_from_data(data(rows[1], row(cohort="workflow=refund,tenant=acme")))
    assert first.content_hash == second.content_hash
    changed = evidence_from_data(data(rows[0], row(cohort="jp-support", value=0.805, count=161)))
    assert changed.content_hash != first.content_hash
    other_version = evidence_from_data(data(*rows, version="2.5.0"))
    assert other_version.content_hash != first.content_hash


def test_json_and_csv_of_the_same_rows_hash_alike():
    json_set = evidence_from_data(data(row(), row(cohort="tenant=acme", value=0.5, n=10, count=5)))
    csv_text = (
        "system,version,cohort,metric,value,n,count\n"
        "search,2.4.0,tenant=acme,task_success_rate,0.50,10,5\n"
        "search,2.4.0,eu-legal,task_success_rate,0.9,200,180\n"
    )
    assert parse_evidence(csv_text, "csv").content_hash == json_set.content_hash


def test_every_bad_row_is_reported_with_its_number_and_nothing_is_accepted():
    raw = data(
        row(),  # 1: good
        row(cohort="a", metric="made_up_metric"),  # 2
        row(cohort="b", value=1.2, count=None),  # 3
        row(cohort="c", n=0, count=None),  # 4
        row(cohort="d", n=-5, count=None),  # 5
        row(cohort="e", n=100, count=101, value=1.0),  # 6
        row(cohort="f", n=100, count=80, value=0.9),  # 7
        row(cohort="g", value="lots"),  # 8
        {"cohort": "h", "metric": "task_success_rate", "n": 10},  # 9: no value
        row(),  # 10: duplicate of row 1
        row(cohort="i", system="other-system"),  # 11
        row(cohort="j", n=10.5, count=None),  # 12
        row(cohort="k", metric="latency_p95_model", value=-1, count=None),  # 13
        row(cohort="l", metric="latency_p95_model", value=100, count=5),  # 14: a count on a latency
        row(cohort="m", colour="blue"),  # 15
    )
    found = {(p.row, p.field) for p in problems(raw)}
    assert found == {
        (2, "metric"),
        (3, "value"),
        (4, "n"),
        (5, "n"),
        (6, "count"),
        (7, "count"),
        (8, "value"),
        (9, "value"),
        (10, "metric"),
        (11, "system"),
        (12, "n"),
        (13, "value"),
        (14, "count"),
        (15, "colour"),
    }
    reasons = {p.row: p.reason for p in problems(raw)}
    assert "unknown metric" in reasons[2]
    assert "between 0 and 1" in reasons[3]
    assert "at least 1" in reasons[4]
    assert "more than the sample size" in reasons[6]
    assert "does not match the value" in reasons[7]
    assert "not a number" in reasons[8]
    assert reasons[9] == "missing"
    assert "duplicate of row 1" in reasons[10]
    assert "'other-system'" in reasons[11]
    assert "whole number" in reasons[12]
    assert "negative" in reasons[13]
    assert "only rates carry a count" in reasons[14]


def test_one_bad_row_refuses_the_whole_file_and_the_message_lists_it():
    with pytest.raises(EvidenceError) as info:
        evidence_from_data(
            data(row(), row(cohort="b"), row(cohort="c", value=7, count=None)), source="run.json"
        )
    message = str(info.value)
    assert message.startswith("run.json: refused, 1 problem(s); nothing was accepted")
    assert "row 3, value: a rate must be between 0 and 1, got 7" in message


def test_count_rounding_tolerance():
    evidence_from_data(data(row(value=0.667, n=3, count=2)))  # 2/3 = 0.6667, inside 0.5/3
    evidence_from_data(data(row(value=0.9049, n=1000, count=905)))  # |0.905 - 0.9049| < 0.0005
    with pytest.raises(EvidenceError):
        evidence_from_data(data(row(value=0.9044, n=1000, count=905)))


def test_system_and_version_from_the_command_line_must_match():
    evidence = evidence_from_data([row(system="search", version="1")], system="search", version="1")
    assert evidence.version == "1"
    found = problems(data(row()), system="search", version="9.9")
    assert [(p.row, p.field) for p in found] == [(0, "version")]
    found = problems([row(system="search", version="1"), row(cohort="x", system="search", version="2")])
    assert [(p.row, p.field) for p in found] == [(2, "version")]
    assert "row 1" in found[0].reason


def test_missing_system_is_reported():
    found = problems([row(version="1")])
    assert [(p.row, p.field) for p in found] == [(0, "system")]


def test_unknown_metrics_need_a_declaration():
    declared = {"metrics": {"csat": {"unit": "points", "direction": "higher"}}}
    evidence = evidence_from_data(data(row(metric="csat", value=4.4, count=None), **declared))
    assert evidence.spec("csat").direction is Direction.HIGHER
    assert evidence.metrics["csat"].kind is Kind.VALUE
    found = problems(data(row(metric="csat", value=4.4, count=None), metrics={"csat": {"unit": "points"}}))
    assert [(p.row, p.field) for p in found] == [(0, "metrics.csat"), (1, "metric")]
    found = problems(data(row(), metrics={"task_success_rate": {"unit": "ms", "direction": "lower"}}))
    assert found[0].field == "metrics.task_success_rate" and "known metric" in found[0].reason


def test_csv_problems_name_the_file_line():
    text = (
        "cohort,metric,value,n,count\n"
        "eu-legal,task_success_rate,0.9,200,180\n"
        "\n"
        '"multi\nline",task_success_rate,0.9,200,180\n'
        "jp-support,task_success_rate,1.5,200,\n"
    )
    with pytest.raises(EvidenceError) as info:
        parse_evidence(text, "csv", system="s", version="v")
    found = [(p.row, p.line, p.field) for p in info.value.problems]
    assert found == [(2, 4, "cohort"), (3, 6, "value")]
    assert "row 3 (line 6), value" in str(info.value)


def test_csv_declares_unknown_metrics_in_columns():
    text = (
        "cohort,metric,value,n,unit,direction\n"
        "a,csat,4.5,300,points,higher\n"
        "b,csat,4.1,300,,\n"
        "c,task_success_rate,0.9,300,fraction,higher\n"
    )
    evidence = parse_evidence(text, "csv", system="s", version="v")
    assert set(evidence.metrics) == {"csat"}
    clash = text + "d,csat,4.0,300,stars,higher\n"
    with pytest.raises(EvidenceError) as info:
        parse_evidence(clash, "csv", system="s", version="v")
    assert (
        info.value.problems[0].row == 4 and "declared differently on row 1" in info.value.problems[0].reason
    )


def test_csv_header_problems():
    with pytest.raises(EvidenceError) as info:
        parse_evidence("cohort,metric,valu,n,notes\n", "csv", system="s", version="v")
    fields = {p.field for p in info.value.problems}
    assert {"valu", "notes", "value"} <= fields


def test_bad_json_and_empty_files():
    with pytest.raises(EvidenceError) as info:
        parse_evidence("{not json", "json")
    assert "not valid JSON" in str(info.value)
    assert problems(data())[0].reason == "the file has no rows"
    assert problems({"system": "s", "rows": [], "extra": 1})[0].field == "extra"


def test_load_evidence_picks_the_format_by_extension(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data(row())))
    assert load_evidence(path).rows[0].count == 180
    csv_path = tmp_path / "run.csv"
    csv_path.write_text("cohort,metric,value,n\na,task_success_rate,0.5,10\n")
    assert load_evidence(csv_path, system="s", version="v").rows[0].successes() == 5
    with pytest.raises(EvidenceError, match="name it .json or .csv"):
        load_evidence(tmp_path / "run.txt")
    with pytest.raises(EvidenceError, match="cannot read file"):
        load_evidence(tmp_path / "absent.json")


def test_stored_sets_load_back_with_the_same_hash():
    evidence = evidence_from_data(
        data(
            row(),
            row(cohort="x", metric="csat", value=3.0, count=None),
            metrics={"csat": {"unit": "points", "direction": "higher"}},
        )
    )
    again = type(evidence).model_validate(json.loads(json.dumps(evidence.model_dump(mode="json"))))
    assert again == evidence and again.content_hash == evidence.content_hash


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(6)))
def test_any_row_order_gives_the_same_hash(order):
    rows = [row(cohort=f"c{i}", value=i / 10, n=10, count=i) for i in range(6)]
    shuffled = evidence_from_data(data(*[rows[i] for i in order]))
    assert shuffled.content_hash == evidence_from_data(data(*rows)).content_hash
    assert [r.cohort for r in shuffled.rows] == [f"c{i}" for i in range(6)]


def test_system_and_version_are_as_long_as_their_columns_wherever_they_come_from():
    from bot.core.limits import MAX_SYSTEM, MAX_VERSION

    rows = [{"cohort": "eu", "metric": "task_success_rate", "value": 0.9, "n": 100}]
    widest = evidence_from_data({"system": "s" * MAX_SYSTEM, "version": "v" * MAX_VERSION, "rows": rows})
    assert (len(widest.system), len(widest.version)) == (MAX_SYSTEM, MAX_VERSION)
    for flags, top in (({"system": "s" * (MAX_SYSTEM + 1), "version": "1"}, {}),
                       ({}, {"system": "s", "version": "v" * (MAX_VERSION + 1)}),
                       ({}, {"rows": [{**rows[0], "system": "s" * (MAX_SYSTEM + 1), "version": "1"}]})):
        with pytest.raises(EvidenceError) as refused:
            evidence_from_data({"rows": rows, **top}, **flags)
        assert any("characters" in p.reason for p in refused.value.problems), refused.value
