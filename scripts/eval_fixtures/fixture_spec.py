"""Single source of truth for the eval fixtures (promptfoo, Inspect, lm-eval).

Everything here is deterministic (no wall clock, no unseeded randomness), so the
datasets and the "local model" behaviour are the same on every run.

The local deterministic "model" answers arithmetic questions.  For each variant
(baseline / candidate-noise / candidate-regression) and cohort (tenant) it gets
the first K items of a fixed per-cohort permutation wrong (answers target+1).
Because the permutations are fixed, the failing sets are nested: the noise
candidate flips exactly one item per cohort, the regression candidate adds 11
failures in eu-legal only (46/50 -> 35/50).

One us-retail item is the "fault" item: the promptfoo provider returns an error
for it and the Inspect solver raises for it (lm-eval's dummy model cannot
error, so there it is an ordinary passing doc).

Two items carry no cohort key at all (no tenant/region): one passes, one fails.
"""

from __future__ import annotations

import random

VARIANTS = ("baseline", "candidate-noise", "candidate-regression")

# tenant -> (region, number of items)
COHORTS = {
    "eu-legal": ("eu", 50),
    "us-retail": ("us", 50),
    "apac-support": ("apac", 20),
}

# variant -> tenant -> number of WRONG answers (fault item not included)
#   eu-legal:     92% -> 90% (noise, 1 item) / 70% (regression, +11 items)
#   us-retail:    88% -> 90% (noise, 1 item) / 88%   (+1 errored item throughout)
#   apac-support: 90% -> 85% (noise, 1 item) / 90%   (small cohort)
WRONG = {
    "baseline": {"eu-legal": 4, "us-retail": 5, "apac-support": 2},
    "candidate-noise": {"eu-legal": 5, "us-retail": 4, "apac-support": 3},
    "candidate-regression": {"eu-legal": 15, "us-retail": 5, "apac-support": 2},
}

FAULT_TENANT = "us-retail"
NO_COHORT_IDS = ("misc-001", "misc-002")  # misc-001 passes, misc-002 fails
NO_COHORT_WRONG = {"misc-002"}


def _item_ids(tenant: str, n: int) -> list[str]:
    return [f"{tenant}-{i:03d}" for i in range(1, n + 1)]


def _permutation(tenant: str, n: int) -> list[str]:
    ids = _item_ids(tenant, n)
    rng = random.Random(f"perm:{tenant}")
    rng.shuffle(ids)
    return ids


def fault_item_id() -> str:
    region, n = COHORTS[FAULT_TENANT]
    return _permutation(FAULT_TENANT, n)[-1]  # never among the wrong ones


def items() -> list[dict]:
    """All dataset items, cohort items first, then the no-cohort items."""
    out = []
    for tenant, (region, n) in COHORTS.items():
        for item_id in _item_ids(tenant, n):
            out.append(_make_item(item_id, tenant, region))
    for item_id in NO_COHORT_IDS:
        out.append(_make_item(item_id, None, None))
    return out


def _make_item(item_id: str, tenant: str | None, region: str | None) -> dict:
    rng = random.Random(f"q:{item_id}")
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    item = {
        "item_id": item_id,
        "question": f"What is {a} + {b}?",
        "answer": str(a + b),
    }
    if tenant is not None:
        item["tenant"] = tenant
        item["region"] = region
    return item


def wrong_ids(variant: str) -> set[str]:
    if variant not in WRONG:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    wrong = set(NO_COHORT_WRONG)
    for tenant, (_region, n) in COHORTS.items():
        wrong.update(_permutation(tenant, n)[: WRONG[variant][tenant]])
    return wrong


_ANSWERS = {it["item_id"]: it["answer"] for it in items()}


def model_answer(variant: str, item_id: str) -> str:
    """The deterministic local model: correct answer unless the item is in the
    variant's wrong set (then target+1)."""
    correct = _ANSWERS[item_id]
    if item_id in wrong_ids(variant):
        return str(int(correct) + 1)
    return correct


def expected_counts(variant: str, fault_is_error: bool = True) -> dict:
    """tenant (or '<none>') -> dict(n, passed, failed, errored)."""
    wrong = wrong_ids(variant)
    fault = fault_item_id()
    counts: dict[str, dict[str, int]] = {}
    for it in items():
        key = it.get("tenant", "<none>")
        c = counts.setdefault(key, {"n": 0, "passed": 0, "failed": 0, "errored": 0})
        c["n"] += 1
        if fault_is_error and it["item_id"] == fault:
            c["errored"] += 1
        elif it["item_id"] in wrong:
            c["failed"] += 1
        else:
            c["passed"] += 1
    return counts


if __name__ == "__main__":
    print("fault item:", fault_item_id())
    for v in VARIANTS:
        print(v, expected_counts(v))
