"""Histogram columns merged in bulk: percentiles of any group from the sum of its windows' buckets.

A histogram column holds, per datapoint, the flat `[bucket, count, ...]` encoding of
`peerperf.protocol.histogram`. Merging adds counts per bucket (exact); percentiles are then read
from the merged counts. Vectorised with numpy so a million datapoints merge in well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from peerperf.protocol.histogram import LINEAR_TOP, TOP, Scale, bucket_value

#: Buckets per histogram on either scale (indexes 0..size-1).
SIZE = max(TOP, LINEAR_TOP) + 1


def bucket_counts(column: pd.Series, groups: pd.Series | None = None) -> np.ndarray:
    """Merged bucket counts: shape (SIZE,) without groups, (n_groups, SIZE) with integer codes `groups`."""
    values = column.to_numpy(dtype=object)
    lengths = np.fromiter((0 if v is None or _isnan(v) else len(v) for v in values), dtype=np.int64, count=len(values))
    n_groups = 1 if groups is None else int(groups.max()) + 1 if len(groups) else 0
    out = np.zeros((max(n_groups, 1), SIZE), dtype=np.int64)
    if lengths.sum() == 0:
        return out[0] if groups is None else out[:n_groups]
    flat = np.concatenate([np.asarray(v, dtype=np.int64) for v, n in zip(values, lengths, strict=True) if n])
    index, count = flat[0::2], flat[1::2]
    index = np.clip(index, 0, SIZE - 1)
    if groups is None:
        out[0] = np.bincount(index, weights=count, minlength=SIZE)[:SIZE].astype(np.int64)
        return out[0]
    owner = np.repeat(groups.to_numpy(dtype=np.int64), lengths // 2)
    merged = np.bincount(owner * SIZE + index, weights=count, minlength=n_groups * SIZE)
    return merged.reshape(n_groups, SIZE).astype(np.int64)


def percentiles(counts: np.ndarray, pcts: Sequence[float], scale: Scale = Scale.LOG) -> list[float]:
    """Nearest-rank percentiles of merged counts (NaN when empty); same answer as `Histogram.percentile`."""
    total = int(counts.sum())
    if total == 0:
        return [math.nan for _ in pcts]
    cumulative = np.cumsum(counts)
    out = []
    for pct in pcts:
        rank = max(1, math.ceil(pct / 100 * total))
        out.append(bucket_value(int(np.searchsorted(cumulative, rank)), scale))
    return out


def maximum(counts: np.ndarray, scale: Scale = Scale.LOG) -> float:
    """The value of the highest non-empty bucket (NaN when empty)."""
    nonzero = np.flatnonzero(counts)
    return bucket_value(int(nonzero[-1]), scale) if len(nonzero) else math.nan


def mean(counts: np.ndarray, scale: Scale = Scale.LOG) -> float:
    total = counts.sum()
    if total == 0:
        return math.nan
    values = np.array([bucket_value(i, scale) for i in range(len(counts))])
    return float((counts * values).sum() / total)


def _isnan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)
