"""`readiness evidence import` and `evidence schema`: a dry run prints one JSON object and stores nothing, an
import stores the set as `evidence push` does, bad files exit 2 with one line and store nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select

from bot.cli.main import main
from models import EvidenceRecord

EVAL = Path(__file__).parent / "fixtures" / "eval"
PROMPTFOO = EVAL / "promptfoo" / "baseline" / "results.json.gz"
[INSPECT] = sorted((EVAL / "inspect" / "baseline").glob("*.eval"))


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("POLICY_PATH", raising=False)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def stored(path: Path) -> int:
    if not path.exists():
        return 0
    engine = create_engine(f"sqlite:///{path}")
    try:
        if EvidenceRecord.__tablename__ not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(EvidenceRecord))
    finally:
        engine.dispose()


def test_a_dry_run_prints_one_json_object_and_stores_nothing(capsys, database):
    code, out, err = run(capsys, "evidence", "import", PROMPTFOO, "--cohort", "tenant", "--dry-run", "--json")
    answer = json.loads(out)  # the whole output is one object
    assert code == 0 and err == ""
    assert (answer["format"], answer["tool"], answer["tool_version"]) == ("promptfoo", "promptfoo", "0.121.20")
    eu = {r["metric"]: r for r in answer["rows"] if r["cohort"] == "eu-legal"}
    assert eu["task_success_rate"] == {"cohort": "eu-legal", "metric": "task_success_rate", "value": 0.92, "n": 50,
                                       "count": 46}
    assert set(eu["latency_p95_end_to_end"]) == {"cohort", "metric", "value", "n", "count"}
    assert answer["notes"] == ["2 of 122 sample(s) had no tenant: counted under cohort (none)"]
    assert stored(database) == 0
    code, out, _ = run(capsys, "evidence", "import", INSPECT, "--cohort", "tenant", "--dry-run")
    assert code == 0 and out.startswith("read inspect_ai 0.3.285: 122 sample(s) in 4 cohort(s)")
    assert "note: 2 of 122 sample(s) had no tenant: counted under cohort (none)" in out
    assert stored(database) == 0


def test_an_import_is_stored_as_a_push_is(capsys, database):
    argv = ("evidence", "import", INSPECT, "--cohort", "tenant", "--system", "copilot", "--version", "1.0",
            "--team", "T1")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.splitlines()[0] == "read inspect_ai 0.3.285: 122 sample(s) in 4 cohort(s), 24 row(s)"
    assert "stored copilot 1.0 as evidence #1: 24 rows" in out and "no release policy applies to copilot" in out
    code, out, _ = run(capsys, *argv, "--json")
    answer = json.loads(out)
    assert code == 0 and answer["duplicate"] is True and answer["import"]["without_cohort"] == 2
    assert stored(database) == 1


def test_bad_files_exit_2_with_one_line_and_store_nothing(capsys, database, tmp_path):
    truncated = tmp_path / "log.eval"
    truncated.write_bytes(INSPECT.read_bytes()[:40_000])
    missing = tmp_path / "results.jsonl"
    record = json.loads(gzip.decompress((EVAL / "promptfoo" / "baseline" / "results.jsonl.gz").read_bytes())
                        .decode().splitlines()[0])
    del record["success"]
    missing.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    bad_map = tmp_path / "map.yaml"
    bad_map.write_text("metrics:\n  correct: {metric: Not A Name}\n")
    common = ("--system", "copilot", "--version", "1.0", "--team", "T1")
    cases = [
        ((truncated, "--cohort", "tenant", *common), "log.eval: a broken or truncated ZIP archive"),
        ((INSPECT, "--from", "promptfoo", *common), "a ZIP archive, not a promptfoo file"),
        ((PROMPTFOO, "--from", "inspect", *common), "not an Inspect log"),
        ((missing, *common), "results.jsonl, line 1, success: expected true or false"),
        ((tmp_path / "nowhere.json", *common), "nowhere.json: cannot read file"),
        ((PROMPTFOO, "--map", bad_map, *common), "is not a metric name"),
        ((PROMPTFOO, "--cohort", "tenant"), "give --system and --version"),
    ]
    for argv, expected in cases:
        code, out, err = run(capsys, "evidence", "import", *argv)
        assert code == 2 and out == "", argv
        assert len(err.strip().splitlines()) == 1 and expected in err, (argv, err)
        assert "Traceback" not in err
    assert stored(database) == 0


def test_the_schema_of_the_row_format(capsys):
    code, out, _ = run(capsys, "evidence", "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "Readiness evidence set"
    row = schema["$defs"]["EvidenceFileRow"]
    assert set(row["properties"]) >= {"cohort", "metric", "value", "n", "count"}
    assert row["required"] == ["cohort", "metric", "value", "n"]


def test_a_mapping_entry_for_a_score_the_file_lacks_exits_2_unless_it_is_optional(capsys, database, tmp_path):
    typo = tmp_path / "eval-map.yaml"
    typo.write_text("metrics:\n  corect: {metric: correct_answers}\n  concise: {metric: brevity}\n")
    for extra in (("--dry-run",), ("--system", "copilot", "--version", "1.0", "--team", "T1")):
        code, out, err = run(capsys, "evidence", "import", PROMPTFOO, "--cohort", "tenant", "--map", typo, *extra)
        assert code == 2 and out == "" and err.count("\n") == 1, (extra, err)
        assert err == (f"readiness: {PROMPTFOO}: {typo} maps score(s) that no sample has: corect (the file's "
                       "scores: correct, concise); correct the name, or mark the entry optional: true\n")
    assert stored(database) == 0
    typo.write_text("metrics:\n  corect: {metric: correct_answers, optional: true}\n  concise: {metric: brevity}\n")
    code, out, _ = run(capsys, "evidence", "import", PROMPTFOO, "--cohort", "tenant", "--map", typo, "--dry-run",
                       "--json")
    metrics = {r["metric"] for r in json.loads(out)["rows"]}
    assert code == 0 and {"correct", "brevity"} <= metrics and "correct_answers" not in metrics


def test_the_dry_run_json_has_exactly_the_documented_keys_and_its_metrics_and_rows_push_as_they_are(
        capsys, database, tmp_path):
    """Issue 15 names format, tool, tool_version and rows; the object also carries the metrics the rows declare
    (without them a score that became a declared metric cannot be pushed) and the notes (how many samples had no
    cohort, ...), which the README documents. No other key, and rows of exactly five."""
    code, out, _ = run(capsys, "evidence", "import", INSPECT, "--cohort", "tenant", "--dry-run", "--json")
    answer = json.loads(out)
    assert code == 0 and set(answer) == {"format", "tool", "tool_version", "rows", "metrics", "notes"}
    assert {frozenset(r) for r in answer["rows"]} == {frozenset({"cohort", "metric", "value", "n", "count"})}
    assert answer["metrics"] == {"abs_error_credit": {"unit": "score", "direction": "higher", "kind": "value"}}
    assert answer["notes"] == ["2 of 122 sample(s) had no tenant: counted under cohort (none)"]

    # what the dry run shows is what an import stores: its metrics and rows pushed as a file are the same set
    rows_only = tmp_path / "rows.json"
    rows_only.write_text(json.dumps({"rows": answer["rows"]}))
    common = ("--system", "copilot", "--version", "1.0", "--team", "T1")
    code, _, err = run(capsys, "evidence", "push", rows_only, *common)
    assert code == 2 and "unknown metric; declare its unit and direction" in err
    pushed = tmp_path / "set.json"
    pushed.write_text(json.dumps({"metrics": answer["metrics"], "rows": answer["rows"]}))
    code, out, _ = run(capsys, "evidence", "push", pushed, *common)
    assert code == 0 and "stored copilot 1.0 as evidence #1: 24 rows" in out
    code, out, _ = run(capsys, "evidence", "import", INSPECT, "--cohort", "tenant", *common, "--json")
    assert code == 0 and json.loads(out)["duplicate"] is True  # the same set: stored once
