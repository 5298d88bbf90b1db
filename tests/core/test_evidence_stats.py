"""Statistics checked against scipy and against published worked examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chi2_contingency, norm

from bot.core.evidence.stats import newcombe_interval, two_proportion_z, wilson_interval, z_quantile


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99, 0.999])
def test_quantile_matches_scipy(confidence):
    assert z_quantile(confidence) == pytest.approx(norm.ppf(1 - (1 - confidence) / 2), abs=1e-9)


def test_wilson_worked_example_81_of_263():
    low, high = wilson_interval(81, 263, 0.95)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)


@pytest.mark.parametrize(
    ("k", "n", "confidence"),
    [
        (81, 263, 0.95),
        (0, 10, 0.95),
        (10, 10, 0.95),
        (1, 1, 0.9),
        (5, 5, 0.95),
        (180, 200, 0.99),
        (3, 1000, 0.95),
    ],
)
def test_wilson_matches_scipy(k, n, confidence):
    expected = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson_interval(k, n, confidence)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), st.floats(0.51, 0.999)
)
def test_wilson_contains_the_estimate_and_stays_in_0_1(kn, confidence):
    k, n = kn
    low, high = wilson_interval(k, n, confidence)
    assert 0.0 <= low <= k / n <= high <= 1.0


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [(180, 200, 182, 200), (930, 1000, 870, 1000), (5, 50, 15, 60), (1, 3, 7, 9), (0, 40, 3, 10), (999, 1000, 1, 2)],
)
def test_two_proportion_z_matches_scipy(x1, n1, x2, n2):
    # The pooled z test is Pearson's chi-squared test of the 2x2 table without Yates' correction:
    # z^2 is the statistic and the two-sided p is the same.
    chi2, p, dof, _ = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    test = two_proportion_z(x1, n1, x2, n2)
    assert dof == 1
    assert test.z**2 == pytest.approx(chi2, rel=1e-9)
    assert test.p_value == pytest.approx(p, rel=1e-6, abs=1e-15)
    assert math.copysign(1, test.z) == math.copysign(1, x2 / n2 - x1 / n1)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_two_proportion_z_matches_scipy_on_any_table(first, second):
    (x1, n1), (x2, n2) = first, second
    test = two_proportion_z(x1, n1, x2, n2)
    if x1 + x2 in (0, n1 + n2):  # a column of zeros: no variance, and scipy refuses the table
        assert (test.z, test.p_value) == (0.0, 1.0)
        return
    chi2, p, _, _ = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    assert test.z**2 == pytest.approx(chi2, rel=1e-7, abs=1e-12)
    assert test.p_value == pytest.approx(p, rel=1e-6, abs=1e-12)
    assert test.z == 0 or (test.z > 0) == (x2 * n1 > x1 * n2)


def test_two_proportion_z_sign_and_degenerate_case():
    assert two_proportion_z(900, 1000, 800, 1000).z < 0  # the second proportion is lower
    same = two_proportion_z(10, 10, 20, 20)
    assert (same.z, same.p_value) == (0.0, 1.0)


def test_newcombe_worked_example():
    # Newcombe (1998), example (c): 56/70 against 48/80; difference 0.2, 95% CI 0.0524 to 0.3339.
    low, high = newcombe_interval(48, 80, 56, 70, 0.95)
    assert low == pytest.approx(0.0524, abs=5e-5)
    assert high == pytest.approx(0.3339, abs=5e-5)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_newcombe_contains_the_difference(first, second):
    (x1, n1), (x2, n2) = first, second
    low, high = newcombe_interval(x1, n1, x2, n2)
    assert -1.0 <= low <= x2 / n2 - x1 / n1 + 1e-12
    assert x2 / n2 - x1 / n1 - 1e-12 <= high <= 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        wilson_interval(5, 0)
    with pytest.raises(ValueError):
        wilson_interval(6, 5)
    with pytest.raises(ValueError):
        z_quantile(1.0)


def test_the_default_confidence_is_95_percent():
    assert wilson_interval(81, 263) == wilson_interval(81, 263, 0.95)
    assert newcombe_interval(48, 80, 56, 70) == newcombe_interval(48, 80, 56, 70, 0.95)


def test_no_successes_give_a_lower_end_of_exactly_zero_and_all_an_upper_end_of_exactly_one():
    # Without the exact ends, rounding leaves 2.8e-17 for 0 of 5: an interval that excludes its own estimate.
    for n in (1, 5, 7, 263, 1000):
        assert wilson_interval(0, n)[0] == 0.0
        assert wilson_interval(n, n)[1] == 1.0


def test_newcombe_at_another_confidence_uses_it_on_both_proportions():
    # Newcombe's method 10 from scipy's Wilson intervals at 99%: d -/+ sqrt of the two squared distances.
    x1, n1, x2, n2 = 48, 80, 56, 70
    a = binomtest(x1, n1).proportion_ci(confidence_level=0.99, method="wilson")
    b = binomtest(x2, n2).proportion_ci(confidence_level=0.99, method="wilson")
    p1, p2 = x1 / n1, x2 / n2
    low = p2 - p1 - math.sqrt((p2 - b.low) ** 2 + (a.high - p1) ** 2)
    high = p2 - p1 + math.sqrt((b.high - p2) ** 2 + (p1 - a.low) ** 2)
    assert newcombe_interval(x1, n1, x2, n2, 0.99) == pytest.approx((low, high), abs=1e-9)


def test_refusals_say_what_was_wrong():
    with pytest.raises(ValueError, match=r"^sample size must be at least 1, got 0$"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match=r"^successes must be between 0 and 5, got 6$"):
        two_proportion_z(6, 5, 1, 5)
    for confidence in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"^confidence must be between 0 and 1, got {confidence}$"):
            z_quantile(confidence)
        with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
            wilson_interval(1, 2, confidence)
    assert z_quantile(0.5) == pytest.approx(norm.ppf(0.75), abs=1e-12)
