"""Small, exact statistics for rates: Wilson intervals and the two-proportion z test.

Pure core: standard library only (``statistics.NormalDist``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


def _check(successes: int, n: int) -> None:
    if n < 1:
        raise ValueError(f"sample size must be at least 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and {n}, got {successes}")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


def z_quantile(confidence: float) -> float:
    """The two-sided critical value: 1.959964... for 0.95."""
    _check_confidence(confidence)
    return _NORMAL.inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n``."""
    _check(successes, n)
    z = z_quantile(confidence)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # Exact ends: no rounding may push the interval off a point estimate of 0 or 1.
    return (0.0 if successes == 0 else low, 1.0 if successes == n else high)


@dataclass(frozen=True)
class ZTest:
    """A two-proportion z test of ``p2 - p1`` with the pooled standard error."""

    z: float
    p_value: float  # two-sided


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> ZTest:
    """Pooled two-proportion z test; ``z`` is positive when the second proportion is higher.

    When both samples are all successes or all failures there is no variance: z = 0, p = 1.
    """
    _check(x1, n1)
    _check(x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return ZTest(z=0.0, p_value=1.0)
    z = (x2 / n2 - x1 / n1) / se
    return ZTest(z=z, p_value=min(1.0, 2 * _NORMAL.cdf(-abs(z))))


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for the difference ``p2 - p1``."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    delta = p2 - p1
    low = delta - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = delta + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return max(-1.0, low), min(1.0, high)
