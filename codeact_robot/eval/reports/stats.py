"""The statistics of a report: Wilson intervals, the exact McNemar test, the paired bootstrap.

This module fixes the choices a paper states: 95% level, Wilson's score interval for a
success rate (its closed form) and the exact (binomial) McNemar test on the discordant pairs
(scipy), and the percentile interval of a paired bootstrap (numpy) with a fixed seed, so
the same store always gives the same numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Rate:
    """A success rate with its 95% Wilson interval.

    Attributes:
        successes: episodes that succeeded.
        episodes: episodes counted.
        rate: successes / episodes (None without episodes).
        low, high: the interval's bounds (None without episodes).
    """

    successes: int
    episodes: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class PairedDifference:
    """Agent A's success rate minus agent B's over the (task, seed, repeat) both ran.

    Attributes:
        pairs: episodes paired.
        a_rate, b_rate: each agent's success rate over the pairs.
        difference: ``a_rate - b_rate``.
        low, high: the paired bootstrap's 95% percentile interval of the difference
            (None with fewer than two pairs).
        a_only, b_only: pairs only A solved, only B solved (McNemar's discordant pairs).
        p_value: the exact two-sided McNemar p-value (1.0 without discordant pairs).
    """

    pairs: int
    a_rate: float
    b_rate: float
    difference: float
    low: float | None
    high: float | None
    a_only: int
    b_only: int
    p_value: float


def wilson(successes: int, episodes: int) -> Rate:
    """The success rate and its 95% Wilson score interval.

    Args:
        successes: how many episodes succeeded.
        episodes: how many were counted (0 gives a rate of None).
    """
    if episodes == 0:
        return Rate(0, 0, None, None, None)
    # The closed form (scipy's ``proportion_ci(method="wilson")``): eval's closing table needs no scipy.stats,
    # whose import takes a second of a loaded machine.
    z = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
    rate = successes / episodes
    scale = 1 + z * z / episodes
    centre = (rate + z * z / (2 * episodes)) / scale
    half = z * math.sqrt(rate * (1 - rate) / episodes + z * z / (4 * episodes * episodes)) / scale
    return Rate(successes, episodes, rate, max(0.0, centre - half), min(1.0, centre + half))


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """The exact two-sided McNemar p-value: a binomial test of the discordant pairs at 1/2.

    Args:
        a_only: pairs in which only the first agent succeeded.
        b_only: pairs in which only the second did.
    """
    if a_only + b_only == 0:
        return 1.0
    from scipy.stats import (
        binomtest,  # here: importing scipy.stats takes a third of a second, and only comparisons need it
    )

    return float(binomtest(a_only, a_only + b_only, 0.5).pvalue)


def paired_difference(a: Sequence[bool], b: Sequence[bool]) -> PairedDifference:
    """Compare two agents on paired episodes (``a[i]`` and ``b[i]`` ran the same task and seed).

    The bootstrap resamples pairs (so it keeps what the two agents' results share), with
    :data:`BOOTSTRAP_RESAMPLES` resamples drawn from seed :data:`BOOTSTRAP_SEED`, and takes
    the 2.5th and 97.5th percentiles of the resampled mean differences.

    Args:
        a: the first agent's successes, one per pair.
        b: the second agent's, in the same order.

    Raises:
        ValueError: the two sequences differ in length or are empty.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f"paired results need equal, non-zero lengths, not {len(a)} and {len(b)}")
    first = np.asarray(a, dtype=float)
    second = np.asarray(b, dtype=float)
    differences = first - second
    pairs = len(differences)
    a_only = int(np.sum(differences > 0))
    b_only = int(np.sum(differences < 0))
    low = high = None
    if pairs >= 2:
        # Each pair's difference is +1 (only A succeeded), -1 (only B) or 0, so resampling n
        # pairs with replacement is drawing how many of each from a multinomial: the same
        # bootstrap distribution of the mean difference, at a cost that does not grow with n.
        shares = [a_only / pairs, b_only / pairs, (pairs - a_only - b_only) / pairs]
        counts = np.random.default_rng(BOOTSTRAP_SEED).multinomial(pairs, shares, size=BOOTSTRAP_RESAMPLES)
        means = (counts[:, 0] - counts[:, 1]) / pairs
        tail = 100 * (1 - CONFIDENCE) / 2
        low, high = (float(q) for q in np.percentile(means, [tail, 100 - tail]))
    return PairedDifference(
        pairs=pairs,
        a_rate=float(first.mean()),
        b_rate=float(second.mean()),
        difference=float(differences.mean()),
        low=low,
        high=high,
        a_only=a_only,
        b_only=b_only,
        p_value=mcnemar_exact(a_only, b_only),
    )
