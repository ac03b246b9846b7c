"""Mergeable histograms with fixed buckets, so percentiles of a run come from merged counts.

A peer reports one histogram per window; the analysis adds the counts of any set of windows, peers
or hosts and reads percentiles from the sum. Averaging per-window percentiles would be wrong; adding
bucket counts is exact. Buckets are fixed, so any two histograms merge without coordination.

Two scales share one encoding, a flat list `[index, count, index, count, ...]` of the non-empty
buckets in index order (compact in JSON, one `list<int64>` column in Parquet):
- `LOG`: bucket i holds values in [MIN_VALUE * R**i, MIN_VALUE * R**(i + 1)) with R = 2**(1/8), so
  a percentile read as the bucket's geometric middle is within 4.4 % of the true value. Values at
  or below MIN_VALUE land in bucket 0; values above the top bucket land in the top bucket.
- `LINEAR`: bucket i holds the integer i (hops, counts of small things).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

#: Smallest value told apart on the log scale (ms for latencies: 10 µs).
MIN_VALUE = 0.01
#: Buckets per doubling on the log scale.
PER_DOUBLING = 8
#: Growth factor from one log bucket to the next.
RATIO = 2 ** (1 / PER_DOUBLING)
#: Highest log bucket: MIN_VALUE * RATIO**TOP is about 1.3e6 (21 minutes in ms).
TOP = 27 * PER_DOUBLING
#: Highest linear bucket.
LINEAR_TOP = 1024


class Scale(StrEnum):
    LOG = "log"
    LINEAR = "linear"


def bucket_of(value: float, scale: Scale = Scale.LOG) -> int:
    """The bucket index `value` falls into (negative values count as the smallest bucket)."""
    if scale is Scale.LINEAR:
        return min(max(int(value), 0), LINEAR_TOP)
    if not value > MIN_VALUE:  # also NaN
        return 0
    return min(int(math.log2(value / MIN_VALUE) * PER_DOUBLING), TOP)


def bucket_value(index: int, scale: Scale = Scale.LOG) -> float:
    """The value a bucket stands for: its geometric middle (log) or the integer itself (linear)."""
    if scale is Scale.LINEAR:
        return float(index)
    return MIN_VALUE * RATIO ** (index + 0.5)


@dataclass
class Histogram:
    """Counts per bucket; `record` is cheap (one log2 and one dict update)."""

    scale: Scale = Scale.LOG
    counts: dict[int, int] = field(default_factory=dict)

    def record(self, value: float) -> None:
        index = bucket_of(value, self.scale)
        self.counts[index] = self.counts.get(index, 0) + 1

    def merge(self, other: Histogram) -> None:
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, pct: float) -> float:
        """The value at or below which `pct` % of the recorded values lie (NaN when empty)."""
        return percentile_of(sorted(self.counts.items()), pct, self.scale)

    def encode(self) -> list[int]:
        """The flat `[index, count, ...]` form of the non-empty buckets."""
        return [n for index in sorted(self.counts) for n in (index, self.counts[index])]

    def take(self) -> list[int]:
        """Encode and reset: the histogram of one window."""
        encoded = self.encode()
        self.counts = {}
        return encoded

    @classmethod
    def decode(cls, flat: Sequence[int], scale: Scale = Scale.LOG) -> Histogram:
        histogram = cls(scale)
        for index, count in pairs(flat):
            histogram.counts[index] = histogram.counts.get(index, 0) + count
        return histogram


def pairs(flat: Sequence[int]) -> Iterable[tuple[int, int]]:
    """`(index, count)` pairs of a flat encoding."""
    return zip(flat[0::2], flat[1::2], strict=True)


def percentile_of(buckets: Sequence[tuple[int, int]], pct: float, scale: Scale = Scale.LOG) -> float:
    """Percentile from `(index, count)` buckets sorted by index: the nearest-rank bucket's value."""
    total = sum(count for _, count in buckets)
    if total == 0:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * total))
    seen = 0
    for index, count in buckets:
        seen += count
        if seen >= rank:
            return bucket_value(index, scale)
    return bucket_value(buckets[-1][0], scale)


def check_encoding(value: object) -> str | None:
    """Why `value` is not a valid flat encoding, or None when it is."""
    if not isinstance(value, list) or len(value) % 2:
        return "expected a flat list [index, count, ...] of even length"
    if not all(isinstance(v, int) and not isinstance(v, bool) and v <= 2**63 - 1 for v in value):
        return "expected 64-bit integers"
    indexes, counts = value[0::2], value[1::2]
    if any(i < 0 for i in indexes) or any(c <= 0 for c in counts):
        return "bucket indexes must be >= 0 and counts > 0"
    if any(b <= a for a, b in itertools.pairwise(indexes)):
        return "bucket indexes must be strictly increasing"
    return None
