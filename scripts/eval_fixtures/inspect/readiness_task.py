"""Inspect task for the Readiness eval fixtures (offline, deterministic).

Run:  inspect eval readiness_task.py -T variant=baseline   (no --model: the Task sets its own)

* dataset.jsonl (written by gen_inputs.py) holds one sample per item; the
  cohort is in sample.metadata (tenant, region); two samples have no cohort.
* The model is Inspect's built-in mockllm provider with a custom_outputs
  callable: it answers from fixture_spec.model_answer(variant, item_id), so the
  per-cohort pass rates are fixed by fixture_spec.WRONG.
* prepare_item raises for the single fault item; with fail_on_error=False
  Inspect records that sample with an `error` and keeps going.
* Scorers: match(numeric=True) -> "C"/"I"; abs_error_credit -> float in [0, 1].
"""

from __future__ import annotations

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import fixture_spec  # noqa: E402
from inspect_ai import Task, task  # noqa: E402
from inspect_ai.dataset import json_dataset  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402
from inspect_ai.scorer import Score, Target, match, mean, scorer  # noqa: E402
from inspect_ai.solver import Generate, TaskState, generate, solver  # noqa: E402

_ITEM_RE = re.compile(r"\[item:([A-Za-z0-9_-]+)\]")


def _fixture_model(variant: str):
    def respond(input, tools, tool_choice, config):  # noqa: A002 (Inspect's signature)
        text = "\n".join(m.text for m in input)
        found = _ITEM_RE.search(text)
        if found is None:
            raise RuntimeError("fixture model: prompt has no [item:...] tag")
        answer = fixture_spec.model_answer(variant, found.group(1))
        output = ModelOutput.from_content(model=f"readiness-fixture-{variant}", content=answer)
        # Setting usage ourselves matters offline: without it mockllm counts
        # tokens with tiktoken's o200k_base, which is downloaded on first use.
        n_in = len(text.split())
        output.usage = ModelUsage(input_tokens=n_in, output_tokens=1, total_tokens=n_in + 1)
        return output

    return respond


@solver
def prepare_item():
    """Tag the prompt with the item id (so the deterministic model can look it
    up) and raise for the one fault item (simulates a crashed sample)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id == fixture_spec.fault_item_id():
            raise RuntimeError(f"fixture solver: simulated tool crash for {state.sample_id}")
        state.user_prompt.text = f"[item:{state.sample_id}] {state.user_prompt.text} Answer with the number only."
        return state

    return solve


@scorer(metrics=[mean()])
def abs_error_credit():
    """Numeric partial credit: 1 - |answer - target| / 10, floored at 0."""

    async def score(state: TaskState, target: Target) -> Score:
        try:
            got = float(state.output.completion.strip())
            credit = max(0.0, 1.0 - abs(got - float(target.text)) / 10.0)
        except ValueError:
            credit = 0.0
        return Score(value=credit, answer=state.output.completion)

    return score


@task
def readiness_arith(variant: str = "baseline") -> Task:
    if variant not in fixture_spec.VARIANTS:
        raise ValueError(f"variant must be one of {fixture_spec.VARIANTS}")
    return Task(
        dataset=json_dataset(os.path.join(HERE, "dataset.jsonl")),
        solver=[prepare_item(), generate()],
        scorer=[match(numeric=True), abs_error_credit()],
        model=get_model(
            f"mockllm/readiness-fixture-{variant}",
            custom_outputs=_fixture_model(variant),
        ),
        fail_on_error=False,
        metadata={"variant": variant},
    )
