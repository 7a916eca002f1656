"""The residual-PII review's statistics: exact one-sided Clopper-Pearson upper bounds, the sample size
shown up front, and the reproducible draw.

Reference values are ``scipy.stats.beta.ppf(confidence, leaks + 1, n - leaks)`` (the closed form of the
one-sided Clopper-Pearson upper bound), computed once with scipy 1.17.1 and written here; the module
itself does not use scipy (a bisection on the binomial CDF)."""

from __future__ import annotations

import math

import pytest

from clearhouse.validation.review import binomial_cdf, draw, evaluate, sample_size, upper_bound

# (leaks, n, confidence, scipy's value)
KNOWN = [
    (0, 59, 0.95, 0.04950760988822693),  # the classic: 59 clean records prove <= 5% at 95%
    (0, 30, 0.95, 0.09503385285530411),
    (0, 299, 0.95, 0.009969146792899269),
    (0, 1, 0.95, 0.95),
    (1, 59, 0.95, 0.0778979215188183),
    (1, 93, 0.95, 0.049993978387988317),
    (2, 200, 0.95, 0.031142599414083726),
    (3, 59, 0.95, 0.12620655673085027),
    (5, 100, 0.95, 0.1022533776432745),
    (10, 1000, 0.95, 0.016903175120562504),
    (0, 59, 0.99, 0.07508527227826667),
    (5, 100, 0.99, 0.12585173069767863),
    (10, 1000, 0.99, 0.02004260590087893),
]


@pytest.mark.parametrize(("leaks", "n", "confidence", "expected"), KNOWN)
def test_upper_bound_matches_known_values(leaks: int, n: int, confidence: float, expected: float) -> None:
    assert upper_bound(leaks, n, confidence) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("leaks", "n"), [(1, 59), (3, 59), (10, 1000)])
def test_the_bound_is_where_the_cdf_reaches_alpha(leaks: int, n: int) -> None:
    p = upper_bound(leaks, n)
    assert binomial_cdf(leaks, n, p) == pytest.approx(0.05, abs=1e-9)


def test_all_leaks_bound_is_one_and_the_bound_moves_the_right_way() -> None:
    assert upper_bound(7, 7) == 1.0
    assert upper_bound(0, 100) < upper_bound(1, 100) < upper_bound(2, 100)
    assert upper_bound(1, 100) > upper_bound(1, 200) > upper_bound(1, 400)


@pytest.mark.parametrize(
    ("leaks", "n", "confidence", "match"),
    [(0, 0, 0.95, "at least one"), (-1, 10, 0.95, "between"), (11, 10, 0.95, "between"), (0, 10, 1.0, "confidence")],
)
def test_bad_input_is_refused(leaks: int, n: int, confidence: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        upper_bound(leaks, n, confidence)


# (max rate, confidence, n): the smallest n whose clean sample proves the rate
SIZES = [(0.05, 0.95, 59), (0.1, 0.95, 29), (0.02, 0.95, 149), (0.01, 0.95, 299), (0.001, 0.95, 2995), (0.05, 0.99, 90)]


@pytest.mark.parametrize(("rate", "confidence", "n"), SIZES)
def test_sample_size_is_the_smallest_that_proves_the_rate(rate: float, confidence: float, n: int) -> None:
    assert sample_size(rate, confidence) == n
    assert upper_bound(0, n, confidence) <= rate < upper_bound(0, n - 1, confidence)
    # the rule of three: about 3 / rate at 95%
    if confidence == 0.95:
        assert abs(n - 3 / rate) / n < 0.05


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, 1.5])
def test_sample_size_refuses_impossible_rates(rate: float) -> None:
    with pytest.raises(ValueError, match="max_residual_rate"):
        sample_size(rate)


def test_evaluate_decides_on_the_bound_not_the_observed_share() -> None:
    clean = evaluate(59, 0, 0.05)
    assert clean.passed and clean.upper_bound == pytest.approx(0.0495076, abs=1e-6)
    one = evaluate(59, 1, 0.05)  # 1.7% observed, but the bound is 7.8%: not proven
    assert one.observed_rate < 0.05 and not one.passed
    assert "1 of 59" in one.summary() and "above the limit 5.00%" in one.summary()
    assert evaluate(93, 1, 0.05).passed  # a bigger sample can carry one leak
    assert evaluate(59, 0, 0.05).to_dict()["passed"] is True


def test_a_census_uses_the_observed_rate() -> None:
    whole = evaluate(20, 0, 0.05, population=20)
    assert whole.census and whole.upper_bound == 0.0 and whole.passed
    assert not evaluate(20, 2, 0.05, population=20).passed  # 10% observed
    assert not evaluate(20, 0, 0.05, population=500).census


def test_draw_is_reproducible_distinct_and_bounded() -> None:
    a, b = draw(1000, 59, seed=42), draw(1000, 59, seed=42)
    assert a == b and len(set(a)) == 59 and a == sorted(a) and all(0 <= i < 1000 for i in a)
    assert draw(1000, 59, seed=43) != a
    assert draw(10, 59, seed=1) == list(range(10))  # fewer records than needed: every one
    assert draw(0, 59, seed=1) == []


def test_binomial_cdf_edges() -> None:
    assert binomial_cdf(-1, 10, 0.5) == 0.0
    assert binomial_cdf(10, 10, 0.3) == 1.0
    assert binomial_cdf(0, 10, 0.0) == 1.0
    assert binomial_cdf(3, 10, 1.0) == 0.0
    assert binomial_cdf(0, 10, 0.1) == pytest.approx(0.9**10)
    assert binomial_cdf(5, 10, 0.5) == pytest.approx(sum(math.comb(10, k) for k in range(6)) / 1024)
