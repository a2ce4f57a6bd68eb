"""The report's statistics against values computed by hand (formulas written out here, not scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codeact_robot.eval.reports.stats import mcnemar_exact, paired_difference, wilson

Z = 1.959963984540054  # the 97.5% quantile of the standard normal


def wilson_by_hand(successes: int, episodes: int) -> tuple[float, float]:
    p = successes / episodes
    centre = (p + Z**2 / (2 * episodes)) / (1 + Z**2 / episodes)
    half = Z / (1 + Z**2 / episodes) * math.sqrt(p * (1 - p) / episodes + Z**2 / (4 * episodes**2))
    return centre - half, centre + half


@pytest.mark.parametrize(("successes", "episodes"), [(30, 50), (0, 10), (10, 10), (1, 3), (137, 200)])
def test_wilson_interval_matches_the_formula(successes: int, episodes: int) -> None:
    rate = wilson(successes, episodes)
    low, high = wilson_by_hand(successes, episodes)
    assert rate.rate == successes / episodes
    assert rate.low == pytest.approx(max(low, 0.0), abs=1e-9)
    assert rate.high == pytest.approx(min(high, 1.0), abs=1e-9)


def test_wilson_of_30_in_50_is_the_textbook_interval() -> None:
    rate = wilson(30, 50)
    assert (round(rate.low, 4), round(rate.high, 4)) == (0.4618, 0.7239)


def test_no_episodes_give_no_rate() -> None:
    rate = wilson(0, 0)
    assert (rate.rate, rate.low, rate.high) == (None, None, None)


@pytest.mark.parametrize(
    ("a_only", "b_only", "p_value"),
    [
        (10, 0, 2 * 0.5**10),  # every discordant pair one way
        (3, 7, 2 * (1 + 10 + 45 + 120) / 2**10),  # 2 P(X <= 3), X ~ Bin(10, 1/2)
        (7, 2, 2 * (1 + 9 + 36) / 2**9),
        (5, 5, 1.0),
        (0, 0, 1.0),  # no discordant pairs: no evidence of a difference
    ],
)
def test_exact_mcnemar_is_the_binomial_test_of_the_discordant_pairs(a_only: int, b_only: int, p_value: float) -> None:
    assert mcnemar_exact(a_only, b_only) == pytest.approx(p_value, rel=1e-12)


def test_paired_bootstrap_matches_the_normal_approximation_for_many_pairs() -> None:
    # 200 pairs: 40 only A solved, 20 only B, 140 ties. Difference 0.1; the differences
    # have variance 0.3 - 0.1**2 = 0.29, so the normal interval is 0.1 +- 1.96 * sqrt(0.29 / 200).
    a = [True] * 40 + [False] * 20 + [True] * 70 + [False] * 70
    b = [False] * 40 + [True] * 20 + [True] * 70 + [False] * 70
    result = paired_difference(a, b)
    half = Z * math.sqrt(0.29 / 200)
    assert (result.pairs, result.a_only, result.b_only) == (200, 40, 20)
    assert result.difference == pytest.approx(0.1)
    assert (result.a_rate, result.b_rate) == (0.55, 0.45)
    assert result.low == pytest.approx(0.1 - half, abs=0.01)
    assert result.high == pytest.approx(0.1 + half, abs=0.01)
    assert result.p_value == pytest.approx(mcnemar_exact(40, 20))


def test_paired_bootstrap_agrees_with_resampling_the_pairs_one_by_one() -> None:
    # The textbook paired bootstrap: draw n pair indices with replacement, average the differences.
    a = [i % 3 != 0 for i in range(120)]
    b = [i % 4 == 0 or i % 5 == 0 for i in range(120)]
    differences = np.array(a, dtype=float) - np.array(b, dtype=float)
    indices = np.random.default_rng(1).integers(0, len(differences), size=(20_000, len(differences)))
    low, high = np.percentile(differences[indices].mean(axis=1), [2.5, 97.5])
    result = paired_difference(a, b)
    assert result.low == pytest.approx(low, abs=0.01)
    assert result.high == pytest.approx(high, abs=0.01)


def test_paired_bootstrap_is_the_same_every_time() -> None:
    a = [i % 3 != 0 for i in range(90)]
    b = [i % 2 == 0 for i in range(90)]
    first, second = paired_difference(a, b), paired_difference(a, b)
    assert (first.low, first.high) == (second.low, second.high)
    assert first.low < first.difference < first.high


def test_paired_bootstrap_of_identical_results_is_zero_wide_and_one_pair_has_no_interval() -> None:
    same = paired_difference([True, False, True], [True, False, True])
    assert (same.difference, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    single = paired_difference([True], [False])
    assert (single.difference, single.low, single.high, single.a_only) == (1.0, None, None, 1)


def test_paired_results_must_have_equal_lengths() -> None:
    with pytest.raises(ValueError, match="equal, non-zero lengths"):
        paired_difference([True, False], [True])
