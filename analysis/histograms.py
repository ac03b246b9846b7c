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
import pyarrow as pa
import pyarrow.compute as pc

from peerperf.protocol.histogram import LINEAR_TOP, TOP, Scale, bucket_value

#: Buckets per histogram on either scale (indexes 0..size-1).
SIZE = max(TOP, LINEAR_TOP) + 1


def as_arrow(column: pd.Series) -> pa.Array:
    """A list or map column as one Arrow array, whether pandas holds it as Arrow or as Python objects."""
    if isinstance(column.dtype, pd.ArrowDtype):
        array = column.array._pa_array  # the ChunkedArray behind an ArrowExtensionArray
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in column.tolist()]
    return pa.array(values)


def arrow_chunks(column: pd.Series) -> list[pa.Array]:
    """A list or map column as the Arrow arrays that hold it, without combining them (that copies every list)."""
    if isinstance(column.dtype, pd.ArrowDtype):
        array = column.array._pa_array
        return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]
    return [as_arrow(column)]


def bucket_counts(column: pd.Series, groups: pd.Series | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """Merged bucket counts: shape (SIZE,) without groups, (n_groups, SIZE) with integer codes `groups`.

    `rows` (positions in `column`) reads only those rows, `groups` then giving one code per row read:
    selecting rows this way costs nothing, where copying a million histograms would cost seconds.
    """
    codes = np.zeros(len(column) if rows is None else len(rows), dtype=np.int64)
    if groups is not None:
        codes = groups.to_numpy(dtype=np.int64)
    n_groups = 1 if groups is None else (int(codes.max()) + 1 if len(codes) else 0)
    if rows is not None:  # rows not read count in one extra group, dropped at the end: no filtering copies
        owner_of_row = np.full(len(column), max(n_groups, 1), dtype=np.int64)
        owner_of_row[rows] = codes
        codes = owner_of_row
    size = (max(n_groups, 1) + 1) * SIZE
    merged = np.zeros(size)
    start = 0
    for chunk in arrow_chunks(column):
        part, start = codes[start : start + len(chunk)], start + len(chunk)
        if len(chunk) == 0 or pa.types.is_null(chunk.type):
            continue
        lengths, flat = flat_lists(chunk)
        key = np.repeat(part * SIZE, lengths // 2)
        key += np.minimum(flat[0::2], SIZE - 1)
        merged += np.bincount(key, weights=flat[1::2], minlength=size)
    out = merged[: max(n_groups, 1) * SIZE].reshape(max(n_groups, 1), SIZE).astype(np.int64)
    return out[0] if groups is None else out[:n_groups]


def flat_lists(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each list's length and every list's values end to end, read in place from the Arrow buffers
    (`list_flatten` would copy them) unless null lists need skipping."""
    if array.null_count:
        lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
        return lengths, pc.list_flatten(array).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    offsets = array.offsets.to_numpy()
    values = array.values.slice(offsets[0], offsets[-1] - offsets[0])
    return np.diff(offsets), values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def nested(body: pd.DataFrame, source: pd.DataFrame | None, name: str) -> tuple[pd.Series, np.ndarray | None] | None:
    """Column `name` for the rows of `body`: its own, or the source's with the positions to read.

    `peerperf.analysis.windows.steady` leaves Arrow list and map columns out of the rows it selects (copying
    them is the costly part of a big test) and records each row's position in `_row`.
    """
    if name in body:
        return body[name], None
    if source is not None and name in source and "_row" in body:
        return source[name], body["_row"].to_numpy()
    return None


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
