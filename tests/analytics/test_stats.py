"""The test for two counts: exact on small counts, the normal approximation on large ones."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from analytics.stats import EXACT_LIMIT, compare_counts, exact_binomial_p_value, normal_p_value


def reference_p_value(current: int, previous: int, ratio: Fraction) -> float:
    """Twice the smaller binomial tail, in exact rational arithmetic."""
    n, p = current + previous, ratio / (1 + ratio)
    mass = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    return float(min(Fraction(1), 2 * min(sum(mass[: current + 1]), sum(mass[current:]))))


def test_equal_counts_are_no_change_at_all() -> None:
    assert compare_counts(10, 10) == pytest.approx(1.0, abs=1e-12)


def test_nothing_against_five_is_one_in_sixteen() -> None:
    assert compare_counts(0, 5) == pytest.approx(0.0625, rel=1e-12)
    assert compare_counts(5, 0) == pytest.approx(0.0625, rel=1e-12)


def test_twenty_against_five() -> None:
    # P(X >= 20 | n = 25, p = 1/2) = (C(25,20) + ... + C(25,25)) / 2^25 = 68406 / 2^25
    assert compare_counts(20, 5) == pytest.approx(2 * 68406 / 2**25, rel=1e-12)
    assert round(compare_counts(20, 5), 4) == 0.0041


def test_no_incidents_in_either_period() -> None:
    assert compare_counts(0, 0) == 1.0


def test_a_previous_period_twice_as_long_expects_twice_the_count() -> None:
    # n = 12, p = 1/3: P(X >= 10) = (66·4 + 12·2 + 1) / 3^12 = 289 / 531441
    assert compare_counts(10, 2, exposure_ratio=0.5) == pytest.approx(578 / 531441, rel=1e-12)
    assert compare_counts(5, 10, exposure_ratio=0.5) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("ratio", [Fraction(1), Fraction(1, 2), Fraction(31, 30), Fraction(4)])
def test_small_counts_match_exact_rational_arithmetic(ratio: Fraction) -> None:
    for current in range(13):
        for previous in range(13):
            expected = reference_p_value(current, previous, ratio)
            got = compare_counts(current, previous, float(ratio))
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-15), (current, previous)


def test_large_counts_use_the_normal_approximation() -> None:
    # z = (|600 - 550| - 0.5) / sqrt(1100 / 4) = 2.985, two-sided p = 0.00284
    assert EXACT_LIMIT < 600 + 500
    assert compare_counts(600, 500) == pytest.approx(0.002838, abs=2e-6)
    assert compare_counts(600, 500) == normal_p_value(600, 1100, 0.5)


@pytest.mark.parametrize("ratio", [1.0, 0.25, 31 / 30, 4.0])
def test_exact_and_normal_agree_where_the_method_switches(ratio: float) -> None:
    probability = ratio / (1 + ratio)
    for successes in range(0, EXACT_LIMIT + 1, 3):
        exact = exact_binomial_p_value(successes, EXACT_LIMIT, probability)
        normal = normal_p_value(successes, EXACT_LIMIT, probability)
        # Close where decisions are made; near p = 1 a skewed binomial is less normal.
        assert normal == pytest.approx(exact, abs=0.003 if exact < 0.2 else 0.01), successes


def test_large_counts_stay_within_probabilities() -> None:
    assert compare_counts(50_000, 50_000) == 1.0
    assert compare_counts(60_000, 40_000) == 0.0  # underflows: as certain as it gets


@pytest.mark.parametrize(
    ("current", "previous", "ratio"), [(-1, 3, 1.0), (3, 1, 0.0), (3, 1, -2.0), (3, 1, math.inf)]
)
def test_impossible_input_is_refused(current: int, previous: int, ratio: float) -> None:
    with pytest.raises(ValueError):
        compare_counts(current, previous, ratio)
