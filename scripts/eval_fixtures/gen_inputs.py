"""Write the deterministic datasets into a work dir (a copy of scripts/eval_fixtures/).

usage: python3 gen_inputs.py WORKDIR

Creates (all derived from fixture_spec.py, byte-identical on every run):
  WORKDIR/promptfoo/tests.json           promptfoo test cases (used by promptfoo/<variant>/promptfooconfig.yaml)
  WORKDIR/inspect/dataset.jsonl          Inspect samples (used by inspect/readiness_task.py)
  WORKDIR/lm_eval/<variant>/data.jsonl   lm-eval docs (used by lm_eval/<variant>/readiness_arith_*.yaml)

The configs themselves are static files in scripts/eval_fixtures/.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fixture_spec  # noqa: E402

# lm-eval's `dummy` model answers every generate_until request with this string
# (lm_eval/models/dummy.py: res.append("lol")).
LM_EVAL_DUMMY_OUTPUT = "lol"


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def promptfoo_inputs(workdir: str) -> None:
    tests = []
    for it in fixture_spec.items():
        test = {
            "description": it["item_id"],
            "vars": {"item_id": it["item_id"], "question": it["question"], "answer": it["answer"]},
        }
        if "tenant" in it:
            test["vars"]["region"] = it["region"]
            test["metadata"] = {"tenant": it["tenant"], "region": it["region"]}
        tests.append(test)
    _write(os.path.join(workdir, "promptfoo", "tests.json"), json.dumps(tests, indent=1) + "\n")


def inspect_inputs(workdir: str) -> None:
    lines = []
    for it in fixture_spec.items():
        sample = {"id": it["item_id"], "input": it["question"], "target": it["answer"], "metadata": {}}
        if "tenant" in it:
            sample["metadata"] = {"tenant": it["tenant"], "region": it["region"]}
        lines.append(json.dumps(sample))
    _write(os.path.join(workdir, "inspect", "dataset.jsonl"), "\n".join(lines) + "\n")


def lm_eval_inputs(workdir: str) -> None:
    """lm-eval's dummy model always says "lol"; a doc passes exact_match iff
    its target is "lol".  So the per-variant pass/fail pattern is encoded in
    the targets: items the local model would answer correctly get target
    "lol", items it would get wrong keep the real arithmetic answer."""
    for variant in fixture_spec.VARIANTS:
        wrong = fixture_spec.wrong_ids(variant)
        d = os.path.join(workdir, "lm_eval", variant)
        lines = []
        for it in fixture_spec.items():
            doc = {
                "item_id": it["item_id"],
                "question": it["question"],
                "target": it["answer"] if it["item_id"] in wrong else LM_EVAL_DUMMY_OUTPUT,
            }
            if "tenant" in it:
                doc["tenant"] = it["tenant"]
                doc["region"] = it["region"]
            lines.append(json.dumps(doc))
        _write(os.path.join(d, "data.jsonl"), "\n".join(lines) + "\n")


def main() -> None:
    workdir = os.path.abspath(sys.argv[1])
    promptfoo_inputs(workdir)
    inspect_inputs(workdir)
    lm_eval_inputs(workdir)


if __name__ == "__main__":
    main()
