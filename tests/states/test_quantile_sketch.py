"""The sketch's percentiles, read from counts per bucket, stay within its relative accuracy of the exact ones."""

import random
from fractions import Fraction

import pytest

from states import quantile_sketch
from states.quantile_sketch import BUCKETS, RELATIVE_ACCURACY

FRACTIONS = {"p50": Fraction(1, 2), "p90": Fraction(9, 10), "p0": Fraction(0), "p100": Fraction(1)}


def counted(values: list[float]) -> list[int]:
    counts = [0] * BUCKETS
    for value in values:
        counts[quantile_sketch.bucket(value)] += 1
    return counts


@pytest.mark.parametrize("size", [1, 2, 7, 1000])
def test_percentiles_from_the_buckets_are_within_the_relative_accuracy_of_the_exact_ones(size):
    rng = random.Random(size)
    values = [rng.lognormvariate(7, 1.5) for _ in range(size)]
    sketched = quantile_sketch.quantiles(counted(values), FRACTIONS)
    for name, fraction in FRACTIONS.items():
        assert sketched[name] == pytest.approx(quantile_sketch.exact_quantile(values, fraction), rel=RELATIVE_ACCURACY), name


def test_no_values_have_no_percentiles():
    assert quantile_sketch.quantiles([0] * BUCKETS, FRACTIONS) == dict.fromkeys(FRACTIONS)


def test_a_value_under_a_millisecond_counts_as_zero():
    assert quantile_sketch.quantiles(counted([0.0004, 0.0]), {"p50": Fraction(1, 2)}) == {"p50": 0.0}
