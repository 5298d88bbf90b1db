"""Imported eval-tool files through the real services, on SQLite and PostgreSQL: a candidate whose difference
from the baseline is inside the noise passes the gate's cohort check, a real regression fails it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.evidence.importers import import_bytes, import_file, options_from, to_evidence
from tests.db.test_evidence import cohort_reasons, mark_all_no, push, start, store_policy

EVAL = Path(__file__).parents[1] / "fixtures" / "eval"
POLICY = """
id: eval-gate
version: "1"
min_sample: 20
rules:
  - metric: task_success_rate
    cohorts: [eu-legal, us-retail, apac-support]
    floor: 0.65
    max_regression: {absolute: 0.05}
"""
TOOLS = {"promptfoo": "promptfoo/{}/results.json.gz", "promptfoo-jsonl": "promptfoo/{}/results.jsonl.gz",
         "inspect": "inspect/{}/*.eval", "lm-eval": "lm_eval/{}/samples_*.jsonl.gz"}


def imported(tool: str, variant: str, version: str):
    [path] = sorted(EVAL.glob(TOOLS[tool].format(variant)))
    found = import_file(path, options_from(cohort=["tenant"]))
    return to_evidence(found, system="copilot", version=version, source=str(path))


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_noise_passes_the_gate_and_a_regression_fails_it(sessions, checklist, tool):
    store_policy(sessions, POLICY)
    aid = start(sessions, checklist, version="2.0")
    mark_all_no(sessions, checklist, aid)
    push(sessions, imported(tool, "baseline", "1.0"))
    noise = push(sessions, imported(tool, "candidate-noise", "2.0"))
    assert noise.scorecard["passed"] is True and noise.scorecard["baseline_version"] == "1.0"
    reasons, cohort = cohort_reasons(sessions)
    assert reasons == [] and cohort["passed"] is True

    regression = push(sessions, imported(tool, "candidate-regression", "2.0"))
    assert regression.scorecard["passed"] is False
    reasons, cohort = cohort_reasons(sessions)
    assert len(reasons) == 1 and reasons[0].startswith("cohort eu-legal, task_success_rate: regression"), reasons
    assert [f["cohort"] for f in cohort["failures"]] == ["eu-legal"]


def test_non_ascii_cohorts_show_in_the_packets_grid(sessions, checklist):
    from bot.core.packet import render_html
    from tests.db.test_packets import build

    store_policy(sessions, POLICY.replace("cohorts: [eu-legal, us-retail, apac-support]", "cohorts: all"))
    aid = start(sessions, checklist, version="2.0")
    export = "tenant,ok\n" + "日本-サポート,1\n" * 25 + "Zürich,0\n" * 25
    found = import_bytes(export.encode(), "export.csv", options_from(cohort=["tenant"], pass_field="ok"))
    push(sessions, to_evidence(found, system="copilot", version="2.0", source="export.csv"))
    page = render_html(build(sessions, aid))
    [svg] = [part for part in page.split("<svg")[1:] if 'class="cell"' in part]  # the cohort grid
    assert ">日本-サポート</text>" in svg and ">Zürich</text>" in svg
