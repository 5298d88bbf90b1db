"""The evidence and policy commands: push, show, validate, store; bad input exits 2 and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main

SAMPLES = Path(__file__).parents[1] / "bot" / "samples"
EVIDENCE = SAMPLES / "evidence"
SYSTEM = "support-search-assistant"


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("POLICY_PATH", raising=False)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_policy_validate_accepts_the_sample_and_names_the_field_of_a_bad_one(capsys, tmp_path):
    code, out, _ = run(capsys, "policy", "validate", str(SAMPLES / "policy.yaml"))
    assert code == 0 and "valid policy search-assistant-release 1.0" in out and "19 rule(s)" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: '1'\nrules:\n  - metric: task_success_rate\n    floor: 1.5\n")
    code, out, err = run(capsys, "policy", "validate", str(bad))
    assert code == 2 and out == "" and "rules.0.floor" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "policy", "schema")
    assert code == 0 and "rules" in json.loads(out)["properties"]


def test_push_refuses_a_bad_file_whole_with_every_row(capsys, tmp_path):
    rows = json.loads((EVIDENCE / "candidate.json").read_text())
    rows["rows"][0]["n"] = "many"
    rows["rows"][4]["cohort"] = ""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rows))
    code, out, err = run(capsys, "evidence", "push", str(bad), "--team", "T1")
    assert code == 2 and out == ""
    assert "row 1, n:" in err and "row 5, cohort:" in err and "nothing was accepted" in err
    code, _, err = run(capsys, "evidence", "show", "--system", SYSTEM, "--version", "2.4.0", "--team", "T1")
    assert code == 2 and "no evidence is stored" in err
    code, _, err = run(capsys, "evidence", "push", str(EVIDENCE / "candidate.json"), "--version", "9")
    assert code == 2 and "differs from '9'" in err
    code, _, err = run(capsys, "evidence", "push", str(EVIDENCE / "candidate.json"))
    assert code == 2 and "pass --team" in err


def test_push_then_show_the_scorecard(capsys, tmp_path):
    assert run(capsys, "evidence", "push", str(EVIDENCE / "baseline.json"), "--team", "T1")[0] == 0
    code, out, _ = run(capsys, "evidence", "push", str(EVIDENCE / "candidate.csv"), "--team", "T1",
                       "--system", SYSTEM, "--version", "2.4.0")
    assert code == 0 and out.startswith(f"stored {SYSTEM} 2.4.0 as evidence #2: 108 rows")
    assert "1 regression, 1 fail" in out
    code, out, _ = run(capsys, "evidence", "push", str(EVIDENCE / "candidate.json"), "--team", "T1", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["duplicate"] is True and answer["evidence_id"] == 2

    code, out, _ = run(capsys, "evidence", "show", "--system", SYSTEM, "--version", "2.4.0", "--team", "T1")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"{SYSTEM} 2.4.0: NOT A PASS") and "Baseline 2.3.0" in lines[1]
    assert lines[3].split()[:2] == ["eu-legal", "task_success_rate"] and "fail" in lines[3]
    picture = tmp_path / "grid.svg"
    code, out, _ = run(capsys, "evidence", "show", "--system", SYSTEM, "--version", "2.4.0", "--team", "T1",
                       "--json", "--picture", str(picture))
    summary = json.loads(out)
    assert summary["baseline_version"] == "2.3.0" and len(summary["cells"]) == 108
    assert [f["cohort"] for f in summary["failures"]] == ["eu-legal", "jp-support"]
    assert picture.read_text(encoding="utf-8").startswith("<svg")
    code, _, err = run(capsys, "evidence", "show", "--system", SYSTEM, "--version", "2.4.0", "--team", "T1",
                       "--picture", str(tmp_path / "grid.png"))
    assert code == 2 and "name the file .svg" in err
    code, out, _ = run(capsys, "evidence", "show", "--system", SYSTEM, "--version", "2.4.0", "--team", "T1",
                       "--baseline", "2.4.0", "--json")
    against_itself = json.loads(out)
    assert against_itself["baseline_version"] == "2.4.0" and against_itself["counts"]["regression"] == 0
    assert against_itself["counts"]["fail"] == 1  # a floor does not need a baseline


def test_policy_push_and_show(capsys, tmp_path):
    own = tmp_path / "policy.yaml"
    own.write_text("id: strict\nversion: '2'\nrules:\n  - metric: task_success_rate\n    floor: 0.95\n")
    code, out, _ = run(capsys, "policy", "show", "--team", "T1", "--system", SYSTEM)
    assert code == 0 and "the shipped sample" in out
    code, _, err = run(capsys, "policy", "show", "--team", "T1", "--system", "copilot")
    assert code == 2 and "no release policy applies to copilot" in err
    code, out, _ = run(capsys, "policy", "push", str(own), "--team", "T1", "--system", SYSTEM)
    assert code == 0 and out.startswith("stored: policy strict 2") and f"system {SYSTEM}" in out
    code, out, _ = run(capsys, "policy", "push", str(own), "--team", "T1")
    assert code == 0 and "the workspace default" in out
    code, out, _ = run(capsys, "policy", "show", "--team", "T1", "--system", "copilot", "--json")
    assert code == 0 and json.loads(out)["source"].startswith("the workspace default")
    run(capsys, "evidence", "push", str(EVIDENCE / "candidate-fixed.json"), "--team", "T1")
    code, out, _ = run(capsys, "evidence", "show", "--system", SYSTEM, "--version", "2.4.0", "--team", "T1",
                       "--json")
    summary = json.loads(out)
    assert summary["policy"]["id"] == "strict" and summary["passed"] is False  # 0.95 is above every cohort
