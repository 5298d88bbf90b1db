"""Importing the eval tools' own files: the counts per cohort match what the files say (counted here, by a few
lines that read the raw files), errored samples, samples without a cohort, latency, per-sample exports, and
bad files refused with one line."""

from __future__ import annotations

import collections
import gzip
import io
import json
import math
from pathlib import Path

import pytest

from bot.core.evidence.importers import (
    NO_COHORT,
    ImportProblem,
    import_bytes,
    import_file,
    load_mapping,
    options_from,
    reading,
    to_evidence,
)

zipfile = reading.zipfile  # Python 3.14's zipfile, or its backport: both read Zstandard members

EVAL = Path(__file__).parents[1] / "fixtures" / "eval"
VARIANTS = ("baseline", "candidate-noise", "candidate-regression")
TENANT = options_from(cohort=["tenant"])


def one(pattern: str) -> Path:
    [path] = sorted(EVAL.glob(pattern))
    return path


def raw_json(path: Path):
    return json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes())


def raw_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines() if line.strip()]


# -- independent counts: (cohort, status) straight from each tool's file -----------------------------


def promptfoo_statuses(path: Path):
    records = raw_lines(path) if path.name.endswith(".jsonl.gz") else raw_json(path)["results"]["results"]
    for r in records:
        status = "error" if r["failureReason"] == 2 else ("pass" if r["success"] else "fail")
        yield r["metadata"].get("tenant"), status, r["latencyMs"]


def inspect_samples(path: Path) -> list[dict]:
    if path.suffix == ".eval":  # every sample member, not the summaries the importer reads
        with zipfile.ZipFile(path) as z:
            return [json.loads(z.read(n)) for n in z.namelist() if n.startswith("samples/")]
    return raw_json(path)["samples"]


def inspect_statuses(path: Path):
    for s in inspect_samples(path):
        status = "error" if s.get("error") else ("pass" if s["scores"]["match"]["value"] == "C" else "fail")
        yield s["metadata"].get("tenant"), status, s["working_time"] * 1000


def lm_eval_statuses(path: Path):
    for d in raw_lines(path):
        yield d["doc"].get("tenant"), "pass" if d["exact_match"] == 1.0 else "fail", None


def tally(statuses) -> dict[str, collections.Counter]:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for cohort, status, _ in statuses:
        counts[cohort or NO_COHORT][status] += 1
    return counts


def rows_by(found, metric: str) -> dict[str, tuple[int, int | None]]:
    return {r["cohort"]: (r["n"], r["count"]) for r in found.rows if r["metric"] == metric}


FIXTURES = [(f"promptfoo/{v}/results.json.gz", promptfoo_statuses) for v in VARIANTS] + \
    [(f"promptfoo/{v}/results.jsonl.gz", promptfoo_statuses) for v in VARIANTS] + \
    [(f"inspect/{v}/*.eval", inspect_statuses) for v in VARIANTS] + \
    [("inspect/baseline/*.json.gz", inspect_statuses)] + \
    [(f"lm_eval/{v}/samples_*.jsonl.gz", lm_eval_statuses) for v in VARIANTS]


@pytest.mark.parametrize("pattern, statuses", FIXTURES, ids=[p for p, _ in FIXTURES])
def test_every_fixture_imports_with_the_counts_its_file_holds(pattern, statuses):
    path = one(pattern)
    found = import_file(path, TENANT)  # the format is recognised from the content
    expected = tally(statuses(path))
    assert set(rows_by(found, "task_success_rate")) == set(expected) == {"eu-legal", "us-retail", "apac-support",
                                                                          NO_COHORT}
    for cohort, c in expected.items():
        n = c["pass"] + c["fail"] + c["error"]
        assert rows_by(found, "task_success_rate")[cohort] == (n, c["pass"]), cohort
        if found.format != "lm-eval":  # lm-eval has no error concept
            assert rows_by(found, "error_rate")[cohort] == (n, c["error"]), cohort
    assert (found.samples, found.without_cohort) == (122, 2)
    assert found.notes[0] == f"2 of 122 sample(s) had no tenant: counted under cohort {NO_COHORT}"
    assert to_evidence(found, system="s", version="1", source=str(path)).cohorts == tuple(sorted(expected))


def test_the_counts_are_the_ones_the_tools_report_themselves():
    for variant in VARIANTS:
        stats = raw_json(one(f"promptfoo/{variant}/results.json.gz"))["results"]["stats"]
        found = import_file(one(f"promptfoo/{variant}/results.json.gz"), TENANT)
        assert sum(c for _, c in rows_by(found, "task_success_rate").values()) == stats["successes"]
        assert sum(c for _, c in rows_by(found, "error_rate").values()) == stats["errors"]
        assert sum(n for n, _ in rows_by(found, "task_success_rate").values()) == \
            stats["successes"] + stats["failures"] + stats["errors"]
        assert found.tool_version == raw_json(one(f"promptfoo/{variant}/results.json.gz"))["metadata"]["promptfooVersion"]

        with zipfile.ZipFile(one(f"inspect/{variant}/*.eval")) as z:
            header = json.loads(z.read("header.json"))
        match = next(s for s in header["results"]["scores"] if s["name"] == "match")
        found = import_file(one(f"inspect/{variant}/*.eval"), TENANT)
        passes = sum(c for _, c in rows_by(found, "task_success_rate").values())
        errors = sum(c for _, c in rows_by(found, "error_rate").values())
        # Inspect's accuracy leaves the errored sample out; the importer keeps it in n, not as a pass
        assert passes == round(match["metrics"]["accuracy"]["value"] * match["scored_samples"])
        assert errors == header["results"]["total_samples"] - header["results"]["completed_samples"] == 1
        assert found.tool_version == header["eval"]["packages"]["inspect_ai"]

        results = raw_json(one(f"lm_eval/{variant}/results_*.json.gz"))
        [(task, sizes)] = results["n-samples"].items()
        from_results = import_file(one(f"lm_eval/{variant}/results_*.json.gz"))
        from_samples = import_file(one(f"lm_eval/{variant}/samples_*.jsonl.gz"), TENANT)
        exact = results["results"][task]["exact_match,none"]
        assert rows_by(from_results, "task_success_rate") == {task: (sizes["effective"], round(exact * 122))}
        assert sum(c for _, c in rows_by(from_samples, "task_success_rate").values()) == round(exact * 122)
        assert from_results.tool_version == results["lm_eval_version"]


def test_an_errored_sample_is_in_n_not_a_pass_and_counted_as_an_error():
    for path, statuses in ((one("promptfoo/baseline/results.json.gz"), promptfoo_statuses),
                           (one("inspect/baseline/*.eval"), inspect_statuses)):
        found = import_file(path, TENANT)
        assert tally(statuses(path))["us-retail"]["error"] == 1
        assert rows_by(found, "error_rate")["us-retail"] == (50, 1)
        assert rows_by(found, "task_success_rate")["us-retail"] == (50, 44)
        assert rows_by(found, "error_rate")["eu-legal"] == (50, 0)  # every cohort has the row, zero or not


def test_named_scores_and_other_scorers_become_metrics():
    found = import_file(one("promptfoo/baseline/results.json.gz"), TENANT)
    assert rows_by(found, "correct")["us-retail"] == (49, 44)  # the errored sample has no named scores
    assert rows_by(found, "concise")["eu-legal"] == (50, 50)
    assert {k: (v.kind.value, v.unit, v.direction.value) for k, v in found.metrics.items()} == {
        "correct": ("rate", "fraction", "higher"), "concise": ("rate", "fraction", "higher")}
    inspect = import_file(one("inspect/baseline/*.eval"), TENANT)
    credit = {r["cohort"]: r for r in inspect.rows if r["metric"] == "abs_error_credit"}
    samples = [s for s in inspect_samples(one("inspect/baseline/*.eval")) if s["metadata"].get("tenant") == "eu-legal"]
    values = [s["scores"]["abs_error_credit"]["value"] for s in samples]
    assert credit["eu-legal"]["n"] == 50 and credit["eu-legal"]["value"] == pytest.approx(sum(values) / 50, abs=1e-3)
    assert inspect.metrics["abs_error_credit"].kind.value == "value"
    assert "match" not in {r["metric"] for r in inspect.rows}  # the scorer that decides success is the rate

    mapping = load_mapping("metrics:\n  correct: {metric: correct_answers, optional: true}\n  concise: false\n"
                           "  abs_error_credit: {metric: groundedness, threshold: 0.95, optional: true}\n",
                           "map.yaml")  # one mapping for both tools: each entry is optional
    renamed = import_file(one("promptfoo/baseline/results.json.gz"), options_from(mapping, cohort=["tenant"]))
    assert "concise" not in {r["metric"] for r in renamed.rows} and "correct_answers" in renamed.metrics
    known = import_file(one("inspect/baseline/*.eval"), options_from(mapping, cohort=["tenant"]))
    exact = sum(1 for v in values if v >= 0.95)
    assert rows_by(known, "groundedness")["eu-legal"] == (50, exact) and "groundedness" not in known.metrics


def nearest_rank(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1]


def test_latency_percentiles_come_from_each_samples_own_latency():
    for path, statuses in ((one("promptfoo/candidate-noise/results.jsonl.gz"), promptfoo_statuses),
                           (one("inspect/baseline/*.json.gz"), inspect_statuses)):
        found = import_file(path, TENANT)
        by_cohort = collections.defaultdict(list)
        for cohort, _, latency in statuses(path):
            by_cohort[cohort or NO_COHORT].append(latency)
        for p in (50, 95, 99):
            row = {r["cohort"]: r for r in found.rows if r["metric"] == f"latency_p{p}_end_to_end"}
            for cohort, values in by_cohort.items():
                assert row[cohort]["n"] == len(values) and row[cohort]["count"] is None
                assert row[cohort]["value"] == pytest.approx(nearest_rank(values, p), abs=1e-3)


def test_cohort_keys_are_dot_paths_and_several_make_a_cohort_of_labels():
    path = one("promptfoo/baseline/results.json.gz")
    by_region = import_file(path, options_from(cohort=["vars.region"]))
    assert set(rows_by(by_region, "task_success_rate")) == {"eu", "us", "apac", NO_COHORT}
    both = import_file(path, options_from(cohort=["tenant", "vars.region"]))
    assert rows_by(both, "task_success_rate")["tenant=eu-legal,vars.region=eu"] == (50, 46)
    assert rows_by(both, "task_success_rate")[NO_COHORT] == (2, 1)
    everyone = import_file(path)
    assert rows_by(everyone, "task_success_rate") == {"all": (122, 109)} and everyone.without_cohort == 0


CSV = """item,tenant,passed,latency_s,error,faithfulness
1,日本-サポート,PASS,0.5,,0.9
2,日本-サポート,fail,1.5,,0.7
3,Zürich,true,0.25,,0.95
4,Zürich,,2,timeout,
5,,1,1,,0.8
"""


def test_a_per_sample_csv_with_a_mapping():
    mapping = load_mapping("cohort: tenant\nsuccess: {pass: passed}\nerror: error\n"
                           "latency: {field: latency_s, unit: s}\n"
                           "metrics:\n  faithfulness: {metric: groundedness, threshold: 0.85}\n", "map.yaml")
    found = import_bytes(CSV.encode(), "export.csv", options_from(mapping))
    assert (found.format, found.tool, found.tool_version) == ("samples", None, None)
    assert rows_by(found, "task_success_rate") == {"日本-サポート": (2, 1), "Zürich": (2, 1), NO_COHORT: (1, 1)}
    assert rows_by(found, "error_rate")["Zürich"] == (2, 1)
    assert rows_by(found, "groundedness") == {"日本-サポート": (2, 1), "Zürich": (1, 1), NO_COHORT: (0 + 1, 0)}
    latency = {r["cohort"]: r["value"] for r in found.rows if r["metric"] == "latency_p50_end_to_end"}
    assert latency == {"日本-サポート": 500, "Zürich": 250, NO_COHORT: 1000}
    assert found.without_cohort == 1
    scored = import_bytes(CSV.encode(), "export.csv", options_from(load_mapping("error: error", "m"), cohort=[
        "tenant"], score="faithfulness", threshold=0.9))
    assert rows_by(scored, "task_success_rate") == {"日本-サポート": (2, 1), "Zürich": (2, 1), NO_COHORT: (1, 0)}
    with pytest.raises(ImportProblem, match=r"export.csv, line 5, faithfulness: missing \(it decides success\)"):
        import_bytes(CSV.encode(), "export.csv", options_from(cohort=["tenant"], score="faithfulness"))


def test_per_sample_json_lines_and_arrays():
    lines = [{"run": {"tags": {"team": "a"}}, "outputs": {"correct": True}, "ms": 120},
             {"run": {"tags": {"team": "a"}}, "outputs": {"correct": False}, "ms": 80},
             {"run": {"tags": {"team": "b"}}, "outputs": {"correct": 1}, "ms": 100}]
    options = options_from(cohort=["run.tags.team"], pass_field="outputs.correct", latency="ms")
    text = "\n".join(json.dumps(x) for x in lines)
    as_lines = import_bytes(text.encode(), "runs.jsonl", options)
    as_array = import_bytes(json.dumps(lines).encode(), "runs.json", options)
    assert rows_by(as_lines, "task_success_rate") == rows_by(as_array, "task_success_rate") == {"a": (2, 1),
                                                                                                 "b": (1, 1)}
    assert {r["metric"] for r in as_lines.rows} >= {"latency_p95_end_to_end"}
    with pytest.raises(ImportProblem, match=r"runs.jsonl: name the pass column \(--pass COL\)"):
        import_bytes(text.encode(), "runs.jsonl", options_from())


def test_gzip_files_are_read_as_what_they_hold():
    path = one("promptfoo/baseline/results.jsonl.gz")
    plain = import_bytes(gzip.decompress(path.read_bytes()), "results.jsonl", TENANT)
    assert plain.rows == import_file(path, TENANT).rows


# -- bad files: one line, naming the file and the place ----------------------------------------------


def refused(data: bytes, source: str = "f", tool: str | None = None, options=TENANT) -> str:
    with pytest.raises(ImportProblem) as caught:
        import_bytes(data, source, options, tool)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(source)
    return message


def test_bad_files_are_refused_with_one_line():
    eval_bytes = one("inspect/baseline/*.eval").read_bytes()
    assert "a broken or truncated ZIP archive" in refused(eval_bytes[: len(eval_bytes) // 2], "log.eval")
    assert "not an Inspect log" in refused(gzip.decompress(one("promptfoo/baseline/results.json.gz").read_bytes()),
                                           "results.json", "inspect")
    inspect_json = gzip.decompress(one("inspect/baseline/*.json.gz").read_bytes())
    assert "not a promptfoo results.json" in refused(inspect_json, "log.json", "promptfoo")
    assert "a ZIP archive, not a lm-eval file" in refused(eval_bytes, "log.eval", "lm-eval")
    record = raw_lines(one("promptfoo/baseline/results.jsonl.gz"))[0]
    del record["success"]
    assert "line 1, success: expected true or false" in refused((json.dumps(record) + "\n").encode() * 2, "r.jsonl",
                                                       "promptfoo")
    lm_line = raw_lines(one("lm_eval/baseline/samples_*.jsonl.gz"))[0]
    del lm_line["exact_match"]
    assert "exact_match: missing (it decides success)" in refused((json.dumps(lm_line) + "\n").encode() * 2)
    assert "a broken or truncated gzip file" in refused(one("promptfoo/baseline/results.json.gz").read_bytes()[:500])
    assert "not valid JSON at line" in refused(b'{"results": {"results": [')
    assert "not UTF-8 text" in refused(b"tenant,pass\n\xff\xfe,1\n")
    assert "nested more than" in refused(b"[" * 70 + b"]" * 70)
    assert "more than 30 digits" in refused(b'[{"x": 1' + b"0" * 40 + b"}]")
    assert "the file is empty" in refused(b"  \n")
    assert "holds list, not a cohort label" in refused(json.dumps([{"tenant": ["a"], "pass": 1}]).encode(),
                                                       options=options_from(cohort=["tenant"], pass_field="pass"))


def test_zip_members_are_read_within_limits(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.json", b'{"eval": {}, "status": "success", "pad": "' + b" " * 200_000 + b'"}')
    monkeypatch.setattr(reading, "MAX_MEMBER_BYTES", 100_000)
    assert "member header.json: expands past the limit" in refused(buffer.getvalue(), "bomb.eval")
    monkeypatch.setattr(reading, "MAX_MEMBERS", 0)
    assert "more than 0 members" in refused(buffer.getvalue(), "many.eval")


def test_a_cohort_label_that_is_literally_none_is_refused_not_merged_with_samples_without_the_key():
    # "(none)" is the cohort of the samples without the key: a sample that says "(none)" itself would be counted
    # with them while the note counts only the missing ones, so the file is refused, naming the sample.
    samples = [{"tenant": "a", "ok": 1}, {"ok": 0}, {"tenant": " (none) ", "ok": 1}, {"ok": 1}]
    options = options_from(cohort=["tenant"], pass_field="ok")
    message = refused(json.dumps(samples).encode(), "runs.json", options=options)
    assert message == ('runs.json, [2], tenant: the label "(none)" is the name of the cohort of samples without '
                       "tenant; rename it in the file")
    both = options_from(cohort=["tenant", "region"], pass_field="ok")
    labelled = [{"tenant": "a", "region": "eu", "ok": 1}, {"region": "eu", "ok": 1},
                {"tenant": "(none)", "region": "eu", "ok": 0}]
    assert refused(json.dumps(labelled).encode(), "runs.json", options=both).startswith(
        'runs.json, [2], tenant: the label "(none)" is the name')
    record = raw_lines(one("promptfoo/baseline/results.jsonl.gz"))[0]
    record["metadata"]["tenant"] = "(none)"
    assert refused((json.dumps(record) + "\n").encode() * 2, "r.jsonl").startswith(
        'r.jsonl, line 1, tenant: the label "(none)"')
    # without the label, the samples without the key are counted apart and the note agrees with the row
    found = import_bytes(json.dumps(samples[:2] + samples[3:]).encode(), "runs.json", options)
    assert rows_by(found, "task_success_rate") == {"a": (1, 1), NO_COHORT: (2, 1)}
    assert found.notes[0].startswith(f"2 of 3 sample(s) had no tenant: counted under cohort {NO_COHORT}")


def test_a_mapping_entry_for_a_score_no_sample_has_is_refused_unless_it_is_optional():
    # a typo in the mapping must not drop a metric in silence: the import stops and names the entries
    typo = load_mapping("metrics:\n  corect: {metric: correct_answers}\n  concise: {metric: brevity}\n"
                        "  verbose_debug: false\n", "map.yaml")
    message = refused(one("promptfoo/baseline/results.json.gz").read_bytes(), "results.json",
                      options=options_from(typo, cohort=["tenant"], source="map.yaml"))
    assert message == ("results.json: map.yaml maps score(s) that no sample has: corect (the file's scores: correct, "
                       "concise); correct the name, or mark the entry optional: true")
    lenient = load_mapping("metrics:\n  corect: {metric: correct_answers, optional: true}\n", "map.yaml")
    found = import_file(one("promptfoo/baseline/results.json.gz"), options_from(lenient, cohort=["tenant"]))
    assert {"correct", "concise"} <= {r["metric"] for r in found.rows}
    assert "correct_answers" not in {r["metric"] for r in found.rows}

    wrong = load_mapping("metrics:\n  abs_error: {kind: value}\n  exact: {metric: exact_answers}\n", "m.yaml")
    options = options_from(wrong, cohort=["tenant"], source="m.yaml")
    for pattern, unknown in (("inspect/baseline/*.eval", "abs_error, exact"),
                             ("inspect/baseline/*.json.gz", "abs_error, exact"),
                             ("lm_eval/baseline/samples_*.jsonl.gz", "abs_error, exact"),
                             ("lm_eval/baseline/results_*.json.gz", "abs_error, exact")):
        path = one(pattern)
        assert f"m.yaml maps score(s) that no sample has: {unknown} (the file" in refused(
            path.read_bytes(), path.name, options=options), pattern
    samples = load_mapping("cohort: tenant\nsuccess: {pass: passed}\nerror: error\nmetrics:\n  faithfulnes: {threshold: 0.8}\n",
                           "map.yaml")
    assert refused(CSV.encode(), "export.csv", options=options_from(samples, source="map.yaml")) == (
        "export.csv: map.yaml maps score(s) that no sample has: faithfulnes (the file's columns: item, tenant, "
        "passed, latency_s, faithfulness, error); correct the name, or mark the entry optional: true")


def test_a_success_score_no_sample_has_is_refused():
    path = one("inspect/baseline/*.eval")
    assert refused(path.read_bytes(), "log.eval", options=options_from(cohort=["tenant"], score="mach")) == (
        "log.eval: no sample has the score mach that decides success (the file's scores: match, abs_error_credit)")
    found = import_file(path, options_from(cohort=["tenant"], score="abs_error_credit", threshold=0.9))
    assert rows_by(found, "task_success_rate")["eu-legal"][0] == 50
