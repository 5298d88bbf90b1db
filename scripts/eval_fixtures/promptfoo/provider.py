"""Local deterministic promptfoo provider (no network, no model weights).

promptfoo's python provider calls call_api(prompt, options, context).  The
answer comes from fixture_spec.model_answer(variant, item_id); the variant is
the provider's `config.variant` from promptfooconfig.  For the single "fault"
item it returns {"error": ...}, which promptfoo records as an ERROR result
(failureReason 2).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixture_spec  # noqa: E402


def call_api(prompt, options, context):
    config = (options or {}).get("config") or {}
    variant = config.get("variant", "baseline")
    item_id = ((context or {}).get("vars") or {}).get("item_id")
    if item_id is None:
        return {"error": "fixture provider: test has no vars.item_id"}
    if item_id == fixture_spec.fault_item_id():
        return {"error": f"fixture provider: simulated upstream 503 for {item_id}"}
    answer = fixture_spec.model_answer(variant, item_id)
    return {
        "output": answer,
        "tokenUsage": {"prompt": len(prompt.split()), "completion": 1, "total": len(prompt.split()) + 1},
    }
