"""A log-bucketed quantile sketch (the DDSketch mapping): mergeable and subtractable, because it is
only counts per bucket.

A positive value x falls in bucket ceil(log_γ x), γ = (1 + α) / (1 − α); the bucket stands for
2γ^i / (γ + 1), within a relative error α of every value in it. Values under a millisecond count
as 0 (bucket 0 stands for 0). A percentile interpolates between the two nearest ranks, as
PostgreSQL's percentile_cont does over the exact values; each rank's value is off by at most α
relatively, so the interpolated figure is too.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from fractions import Fraction
from itertools import accumulate

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
SMALLEST = 0.001  # seconds: below it, a value counts as 0
ZERO = 0
# Bucket indexes of values from a millisecond up are all above this (log_γ 0.001 ≈ −346).
_OFFSET = 400
# Up to a billion seconds (31 years) in their own buckets; anything longer counts as that.
BUCKETS = 1440


def bucket(value: float) -> int:
    if value < SMALLEST:
        return ZERO
    return min(math.ceil(math.log(value) / _LOG_GAMMA) + _OFFSET, BUCKETS - 1)


def representative(index: int) -> float:
    if index == ZERO:
        return 0.0
    return 2 * GAMMA ** (index - _OFFSET) / (GAMMA + 1)


def quantiles(counts: Sequence[int], fractions: Mapping[str, Fraction]) -> dict[str, float | None]:
    """Each fraction's percentile of the values counted per bucket (`counts[i]`: bucket i's),
    interpolated linearly between the two nearest ranks."""
    cumulative = list(accumulate(counts))
    total = cumulative[-1] if cumulative else 0
    figures: dict[str, float | None] = {}
    for name, fraction in fractions.items():
        if not total:
            figures[name] = None
            continue
        position = (total - 1) * fraction
        below = int(position)
        # The rank-th smallest value (from 0) is in the first bucket whose running count exceeds the rank.
        low = representative(bisect_right(cumulative, below))
        figures[name] = low if position == below else low + (representative(bisect_right(cumulative, below + 1)) - low) * float(position - below)
    return figures


def exact_quantile(values: Sequence[float], fraction: Fraction) -> float | None:
    """The same percentile over the values themselves."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below = int(position)
    if position == below:
        return ordered[below]
    return ordered[below] + (ordered[below + 1] - ordered[below]) * float(position - below)
