"""The command line end to end: score, gate, checklist, and every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main

SAMPLE = Path(__file__).parents[1] / "bot" / "samples" / "search-assistant.yaml"


def write(tmp_path: Path, text: str, name: str = "assessment.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def all_marks(overrides: dict[str, str] | None = None) -> str:
    ids = [f"s{n}" for n in range(1, 22)] + ["data-boundary"]
    lines = ["system: checkout-copilot", "version: 3.1.0", "marks:"]
    for item_id in ids:
        line = (overrides or {}).get(item_id, '{mark: "no", evidence: "https://proof.example"}')
        lines.append(f"  {item_id}: {line}")
    return "\n".join(lines) + "\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_json_is_one_object_with_the_documented_keys(capsys):
    code, out, err = run(capsys, "score", str(SAMPLE), "--json")
    assert code == 0 and err == ""
    result = json.loads(out)
    assert result == {
        "score": 5, "max_score": 42, "band": "5-9", "verdict": "narrow",
        "blockers": [], "unmarked": [], "unowned_gaps": [], "unevidenced": [],
    }


def test_score_text_is_readable(capsys):
    code, out, _ = run(capsys, "score", str(SAMPLE))
    assert code == 0
    assert "Score:     5 of 42" in out and "Verdict:   Narrow" in out
    assert "s11 Capacity" in out and "owner sam, due 2026-12-12" in out


def test_bare_yes_and_no_are_marks_not_booleans(tmp_path, capsys):
    path = write(tmp_path, all_marks({"s3": "yes", "s4": "{mark: yes, owner: kim, due: 2027-01-02}"}))
    code, out, _ = run(capsys, "score", str(path), "--json")
    result = json.loads(out)
    assert code == 0 and result["score"] == 4 and result["unowned_gaps"] == ["s3"]


def test_gate_passes_go_and_refuses_others(tmp_path, capsys):
    clean = write(tmp_path, all_marks())
    assert run(capsys, "gate", str(clean))[0] == 0
    narrow = write(tmp_path, all_marks({f"s{n}": "{mark: partial, owner: a, due: 2027-01-01}" for n in (1, 2, 3, 4, 5)}), "n.yaml")
    code, out, _ = run(capsys, "gate", str(narrow))
    assert code == 1 and "verdict narrow is not allowed" in out
    assert run(capsys, "gate", str(narrow), "--allow", "go,narrow")[0] == 0


def test_gate_names_the_blockers(tmp_path, capsys):
    path = write(tmp_path, all_marks({"s16": "{mark: partial, owner: a, due: 2027-01-01}"}))
    code, out, _ = run(capsys, "gate", str(path), "--allow", "go,narrow,hold")
    assert code == 1
    assert "blockers: s16" in out and "no-go" in out


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("system: a\nversion: 1\nmarks:\n  s99: no\n", "marks.s99: unknown item id"),
        ("system: a\nversion: 1\nmarks:\n  s3: {mark: maybe}\n", "marks.s3.mark: 'maybe' is not one of no, partial, yes"),
        ("system: a\nversion: 1\nmarks:\n  s3: {mark: yes, due: next week}\n", "marks.s3.due: 'next week' is not a date"),
        ("system: a\nversion: 1\nmarks:\n  s3: {mark: yes, due: 2026-02-31}\n", "marks.s3.due"),
        ("system: a\nversion: 1\nmarks: [\n", "not valid YAML at line"),
        ("version: 1\nmarks: {}\n", "system: missing"),
        ("system: a\nversion: 1\nmarks:\n  s3: {mark: no, evidnce: x}\n", "marks.s3.evidnce: unknown field"),
        ("- just\n- a list\n", "expected a mapping"),
        ("system: a\nversion: 1\nmarks: 5\n", "marks: expected a mapping"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_file_and_field(tmp_path, capsys, content, fragment):
    path = write(tmp_path, content)
    for command in ("score", "gate"):
        code, out, err = run(capsys, command, str(path))
        assert code == 2, err
        assert out == ""
        assert err.count("\n") == 1 and str(path) in err and fragment in err, err


def test_unreadable_file_exits_2(tmp_path, capsys):
    code, _, err = run(capsys, "score", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml: cannot read file" in err


def test_binary_file_exits_2(tmp_path, capsys):
    path = tmp_path / "blob.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81")
    code, _, err = run(capsys, "score", str(path))
    assert code == 2 and "blob.yaml" in err


def test_unknown_allow_value_exits_2(capsys):
    code, _, err = run(capsys, "gate", str(SAMPLE), "--allow", "go,maybe")
    assert code == 2 and "--allow: 'maybe' is not a verdict" in err


def test_custom_checklist_is_used(tmp_path, capsys, checklist_data):
    import yaml

    data = dict(checklist_data)
    data["sections"] = data["sections"][:1]
    data["scoring"] = dict(data["scoring"])
    data["scoring"]["bands"] = [{"label": "all", "min": 0, "verdict": "go", "action": "ship it"}]
    custom = write(tmp_path, yaml.safe_dump(data), "team.yaml")
    assessment = write(tmp_path, "system: a\nversion: '1'\nmarks:\n  s1: {mark: partial, owner: x, due: 2027-01-01}\n")
    code, out, _ = run(capsys, "score", str(assessment), "--json", "--checklist", str(custom))
    assert code == 0 and json.loads(out)["max_score"] == 8
    code, _, err = run(capsys, "score", str(SAMPLE), "--checklist", str(custom))
    assert code == 2 and "marks.s5: unknown item id" in err


def test_checklist_validate_and_schema(tmp_path, capsys, checklist_data):
    import yaml

    good = write(tmp_path, yaml.safe_dump(checklist_data), "good.yaml")
    code, out, _ = run(capsys, "checklist", "validate", str(good))
    assert code == 0 and "22 items in 6 sections, max score 42" in out
    broken = dict(checklist_data)
    broken["scoring"] = {**checklist_data["scoring"], "bands": checklist_data["scoring"]["bands"][1:]}
    bad = write(tmp_path, yaml.safe_dump(broken), "bad.yaml")
    code, _, err = run(capsys, "checklist", "validate", str(bad))
    assert code == 2 and "bad.yaml: scoring.bands" in err
    code, out, _ = run(capsys, "checklist", "schema")
    assert code == 0 and json.loads(out)["title"] == "Checklist"


def test_console_script_runs_in_a_real_process(tmp_path):
    bad = write(tmp_path, "system: a\nversion: 1\nmarks:\n  s1: {mark: sometimes}\n")
    exe = Path(sys.executable).with_name("readiness")
    done = subprocess.run([str(exe), "score", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    done = subprocess.run([str(exe), "score", str(SAMPLE), "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["verdict"] == "narrow"


def test_serve_and_run_refuse_missing_credentials_with_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    code, _, err = run(capsys, "serve", "--port", "0")
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    code, _, err = run(capsys, "serve", "--port", "0")
    assert code == 2 and "SLACK_SIGNING_SECRET is not set" in err
    code, _, err = run(capsys, "run")
    assert code == 2 and "SLACK_APP_TOKEN is not set" in err


@pytest.mark.parametrize("argv", [("evidence", "schema"), ("checklist", "schema"), ("policy", "schema"),
                                  ("score", str(SAMPLE))])
def test_a_reader_that_stops_early_ends_the_command_quietly(argv):
    """`readiness evidence schema | head`: the reader goes away before the command has written; the command ends
    without a word on stderr, with the status a shell gives a command ended by SIGPIPE (128 + 13)."""
    exe = Path(sys.executable).parent / "readiness"
    child = subprocess.Popen([str(exe), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # before the command has started: every write meets a pipe without a reader
    err = child.stderr.read()
    child.stderr.close()
    assert (child.wait(timeout=60), err) == (141, b"")


def test_a_broken_pipe_that_is_not_stdout_is_still_an_unexpected_error(capsys, monkeypatch):
    def broken(_args):
        raise BrokenPipeError(32, "Broken pipe")  # a socket's, say: stdout here is fine

    monkeypatch.setattr("bot.cli.main.cmd_checklist_schema", broken)
    code, out, err = run(capsys, "checklist", "schema")
    assert code == 70 and err == "readiness: unexpected error: BrokenPipeError (rerun with --debug to see where)\n"
