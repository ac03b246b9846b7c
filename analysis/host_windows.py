"""The harness's evidence: one row per host and window, whatever read it (a results file, the live feed).

Each host reports, for each stats window, its tick-lag histogram (with its p99), the ticks it skipped,
its process's CPU and the machine's; its peers report the packets they received by subtype (what
the host was busy with). `HostWindows` holds these as columns, so the verdict (`verdict.judge`) is one
function over one shape: the analysis builds it from a DataFrame (`health.py`), the live page and the
live view from datapoints as they come (`from_records`). numpy only: the results service imports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peerperf.protocol.histogram import MIN_VALUE, RATIO, TOP, bucket_value

#: Buckets of a tick-lag (log scale) histogram.
LAG_BUCKETS = TOP + 1


@dataclass(frozen=True)
class HostWindows:
    """Host windows as columns (one row per host and window); tick-lag histograms as sparse triplets."""

    host: np.ndarray
    window: np.ndarray
    #: Server time of the window's datapoints, ms (NaN when unknown): the stats interval is read from it.
    timestamp: np.ndarray
    node: np.ndarray
    #: Tick-lag histograms: `lag_count[i]` ticks in bucket `lag_bucket[i]` of row `lag_row[i]`.
    lag_row: np.ndarray
    lag_bucket: np.ndarray
    lag_count: np.ndarray
    #: The window's reported tick-lag p99 (read when a row has no histogram), ms; NaN when absent.
    lag_p99_reported: np.ndarray
    missed: np.ndarray
    cpu: np.ndarray
    machine_cpu: np.ndarray
    machine_cpus: np.ndarray
    #: Packets the host's peers received in the window, by subtype (read only when some windows were late).
    activity: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.window)

    def lag_counts(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The merged tick-lag histogram (bucket counts) of all rows, or of the rows where `rows` is True."""
        keep = np.ones(len(self.lag_row), bool) if rows is None else rows[self.lag_row]
        buckets = np.minimum(self.lag_bucket[keep], LAG_BUCKETS - 1)
        return np.bincount(buckets, weights=self.lag_count[keep], minlength=LAG_BUCKETS).astype(np.int64)

    def ticks(self) -> np.ndarray:
        """Ticks recorded in each row's histogram."""
        return np.bincount(self.lag_row, weights=self.lag_count, minlength=len(self)).astype(np.int64)

    def lag_p99(self) -> np.ndarray:
        """Each row's tick-lag p99, from its histogram when it has one, else as reported (NaN: neither)."""
        out = self.lag_p99_reported.astype(float).copy()
        if len(self.lag_row) == 0:
            return out
        order = np.lexsort((self.lag_bucket, self.lag_row))
        rows, buckets, counts = self.lag_row[order], self.lag_bucket[order], self.lag_count[order]
        totals = np.bincount(rows, weights=counts, minlength=len(self))
        rank = np.maximum(1, np.ceil(0.99 * totals))
        cumulative = np.cumsum(counts)
        starts = np.searchsorted(rows, np.arange(len(self)))  # where each row's buckets begin
        before = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0)
        reached = np.flatnonzero(cumulative - before[rows] >= rank[rows])
        first = reached[np.unique(rows[reached], return_index=True)[1]]  # each row's nearest-rank bucket
        index = np.minimum(buckets[first], LAG_BUCKETS - 1)
        out[rows[first]] = MIN_VALUE * RATIO ** (index + 0.5)
        return out

    def interval_s(self, default: float = 2.0) -> float:
        """The stats interval: per host, the time its windows span over the windows they span (median)."""
        per_host = []
        for host in np.unique(self.host):
            mine = (self.host == host) & ~np.isnan(self.timestamp)
            if mine.sum() < 2:
                continue
            windows, times = self.window[mine], self.timestamp[mine]
            span, elapsed = windows.max() - windows.min(), times.max() - times.min()
            if span > 0 and elapsed > 0:
                per_host.append(elapsed / span / 1000)
        return float(np.median(per_host)) if per_host else default


class Lazy(Mapping[str, np.ndarray]):
    """Arrays by name, computed on first use (a run without late windows never needs its activity)."""

    def __init__(self, compute: Callable[[], dict[str, np.ndarray]]) -> None:
        self._compute = compute
        self._value: dict[str, np.ndarray] | None = None

    def _arrays(self) -> dict[str, np.ndarray]:
        if self._value is None:
            self._value = self._compute()
        return self._value

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays())

    def __len__(self) -> int:
        return len(self._arrays())


def percentile(counts: np.ndarray, pct: float) -> float:
    """Nearest-rank percentile of merged log-scale bucket counts (NaN when empty)."""
    total = int(counts.sum())
    if total == 0:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * total))
    return bucket_value(int(np.searchsorted(np.cumsum(counts), rank)))


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool | str):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def from_records(records: Sequence[Mapping[str, Any]]) -> HostWindows:
    """Host windows from metrics dicts, one per host and window (the datapoint schema's host fields, with
    `receivedBySubtype` summed over the host's peers and `timestamp` in ms when known)."""
    lag_row: list[int] = []
    lag_bucket: list[int] = []
    lag_count: list[int] = []
    subtypes = sorted({k for r in records for k in (r.get("receivedBySubtype") or {})})
    activity = {s: np.zeros(len(records)) for s in subtypes}
    for i, record in enumerate(records):
        flat = record.get("tickLagMs") or []
        lag_row.extend([i] * (len(flat) // 2))
        lag_bucket.extend(flat[0::2])
        lag_count.extend(flat[1::2])
        for subtype, count in (record.get("receivedBySubtype") or {}).items():
            activity[subtype][i] = count

    def column(name: str) -> np.ndarray:
        return np.array([_number(r.get(name)) for r in records], dtype=float)

    return HostWindows(
        host=np.array([str(r.get("hostId") or "") for r in records], dtype=object),
        window=np.array([int(r.get("window") or 0) for r in records], dtype=np.int64),
        timestamp=column("timestamp"),
        node=np.array([str(r.get("nodeId") or "") for r in records], dtype=object),
        lag_row=np.array(lag_row, dtype=np.int64),
        lag_bucket=np.array(lag_bucket, dtype=np.int64),
        lag_count=np.array(lag_count, dtype=np.int64),
        lag_p99_reported=column("tickLagP99"),
        missed=column("ticksMissed"),
        cpu=column("hostCpuPercent"),
        machine_cpu=column("machineCpuPercent"),
        machine_cpus=column("machineCpus"),
        activity=activity,
    )
