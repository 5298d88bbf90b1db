"""`readiness packet` from assessment files: Markdown and HTML, baselines, and every kind of bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli.main import main

SAMPLE = Path(__file__).parents[1] / "bot" / "samples" / "search-assistant.yaml"
IDS = [f"s{n}" for n in range(1, 22)] + ["data-boundary"]
TRACES = [
    {"kind": "good", "url": "https://traces.example.com/t/1", "description": "answered with citations"},
    {"kind": "escalation", "url": "https://traces.example.com/t/3", "description": "handed to a person"},
]


def assessment(tmp_path: Path, name: str = "cand.yaml", **fields: object) -> Path:
    data: dict[str, object] = {"system": "copilot", "version": "2.0",
                               "marks": {i: {"mark": "no", "evidence": f"proof {i}"} for i in IDS}}
    data.update(fields)
    path = tmp_path / name
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def footer_hash(text: str) -> str:
    found = re.search(r"sha256:([0-9a-f]{64})", text)
    assert found, "no content hash in the packet"
    return found[1]


def test_markdown_of_the_sample_to_standard_output(capsys):
    code, out, err = run(capsys, "packet", str(SAMPLE))
    assert code == 0 and err == ""
    assert out.startswith("# Rollout packet: support-search-assistant 2.4.0")
    assert "No baseline is set" in out and "Missing: good path, bad path, escalation path." in out
    assert "| s11 | Capacity is planned for expansion traffic | Partial |" in out


def test_html_with_baseline_traces_and_plan_to_a_file(tmp_path, capsys):
    base = assessment(tmp_path, "base.yaml", version="1.9",
                      marks={i: ({"mark": "yes", "owner": "U0DANA", "due": "2026-12-01"} if i == "s1" else "no")
                             for i in IDS})
    cand = assessment(tmp_path, traces=TRACES, rollout="1. Canary at 5%\n2. Everyone", rollback="Flag off")
    out = tmp_path / "packet.html"
    code, stdout, err = run(capsys, "packet", str(cand), "--baseline", str(base), "--format", "html",
                            "--out", str(out))
    assert code == 0 and stdout == "" and f"to {out}" in err
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'class="section-chart"' in page and "Baseline 1.9" in page
    assert "Canary at 5%" in page and "Missing: bad path." in page
    assert footer_hash(page)[:12] in err


def test_the_same_data_gives_the_same_hash_whatever_the_trace_order(tmp_path, capsys):
    first = assessment(tmp_path, "a.yaml", traces=TRACES)
    second = assessment(tmp_path, "b.yaml", traces=list(reversed(TRACES)))
    hashes = {footer_hash(run(capsys, "packet", str(path))[1]) for path in (first, second)}
    assert len(hashes) == 1
    changed = assessment(tmp_path, "c.yaml", traces=TRACES[:1])
    assert footer_hash(run(capsys, "packet", str(changed))[1]) not in hashes


def test_score_still_reads_a_file_with_packet_fields(tmp_path, capsys):
    path = assessment(tmp_path, traces=TRACES, rollout="canary", rollback="flag off")
    code, out, _ = run(capsys, "score", str(path), "--json")
    assert code == 0 and json.loads(out)["verdict"] == "go"


@pytest.mark.parametrize(("fields", "expected"), [
    ({"traces": [{"kind": "ugly", "url": "https://t.example.com"}]}, "traces[0].kind: 'ugly' is not one of"),
    ({"traces": [{"kind": "bad", "url": "javascript:alert(1)"}]}, "traces[0].url: 'javascript:alert(1)' is not an"),
    ({"traces": [{"kind": "bad"}]}, "traces[0].url: missing"),
    ({"traces": [{"kind": "bad", "url": "https://t.example.com", "who": "x"}]}, "traces[0].who: unknown field"),
    ({"traces": {"kind": "bad"}}, "traces: expected a list"),
    ({"rollout": ["a", "b"]}, "rollout: expected text, got list"),
])
def test_bad_packet_fields_exit_2_with_one_line_naming_file_and_field(tmp_path, capsys, fields, expected):
    path = assessment(tmp_path, **fields)
    code, out, err = run(capsys, "packet", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and expected in err, err


def test_bad_command_lines_exit_2_with_one_line(tmp_path, capsys, monkeypatch):
    cand = assessment(tmp_path)
    other = assessment(tmp_path, "other.yaml", system="search")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    cases = [
        (["packet", str(tmp_path / "missing.yaml")], "missing.yaml"),
        (["packet", str(cand), "--baseline", str(other)], "is about search, not copilot"),
        (["packet", str(cand), "--baseline-checklist", str(SAMPLE)], "--baseline-checklist needs --baseline"),
        (["packet", "7", "--baseline", str(cand)], "go with an assessment FILE"),
        (["packet", str(cand), "--out", str(tmp_path / "no-such-dir" / "p.md")], "--out: cannot write"),
    ]
    for argv, expected in cases:
        code, _out, err = run(capsys, *argv)
        assert code == 2 and err.count("\n") == 1 and expected in err, (argv, err)


def test_an_unknown_review_id_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'readiness.db'}")
    code, out, err = run(capsys, "packet", "42")
    assert code == 2 and out == "" and "there is no assessment 42" in err
