"""Fixed-bucket histograms: bounded error, exact merging, a strict encoding."""

from __future__ import annotations

import math
import random

import pytest

from peerperf.protocol.histogram import Histogram, Scale, bucket_of, bucket_value, check_encoding


def test_percentiles_are_within_the_bucket_width() -> None:
    rng = random.Random(1)
    values = sorted(rng.lognormvariate(1.5, 1.0) for _ in range(10_000))
    histogram = Histogram()
    for value in values:
        histogram.record(value)
    for pct in (50, 90, 99, 99.9):
        true = values[math.ceil(pct / 100 * len(values)) - 1]
        assert histogram.percentile(pct) == pytest.approx(true, rel=0.045)


def test_merging_equals_recording_everything_in_one() -> None:
    a, b, both = Histogram(), Histogram(), Histogram()
    for i in range(1, 500):
        (a if i % 3 else b).record(i / 7)
        both.record(i / 7)
    a.merge(b)
    assert a.counts == both.counts
    assert Histogram.decode(both.encode()).counts == both.counts


def test_edges_and_linear_scale() -> None:
    assert bucket_of(0.0) == 0 and bucket_of(-5.0) == 0 and bucket_of(float("nan")) == 0
    assert bucket_of(1e12) == bucket_of(1e13)  # clamped to the top bucket
    hops = Histogram(Scale.LINEAR)
    for value in (1, 1, 2, 3):
        hops.record(value)
    assert hops.encode() == [1, 2, 2, 1, 3, 1]
    assert hops.percentile(50) == 1.0 and bucket_value(3, Scale.LINEAR) == 3.0
    assert math.isnan(Histogram().percentile(50))
    assert hops.take() == [1, 2, 2, 1, 3, 1] and hops.total == 0


@pytest.mark.parametrize(
    ("value", "problem"),
    [([1], "even length"), ([1, 0], "counts > 0"), ([2, 1, 1, 1], "increasing"), ([1.5, 1], "integers"), ("x", "flat")],
)
def test_bad_encodings_are_named(value: object, problem: str) -> None:
    message = check_encoding(value)
    assert message is not None and problem in message
    assert check_encoding([0, 3, 5, 1]) is None
