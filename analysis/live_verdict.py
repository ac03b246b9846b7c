"""The harness verdict while a run goes: host windows gathered as they come, judged like a finished run.

The live page (from the datapoints the results service accepts) and the live view (from the peer
hosts' progress) each keep one `LiveVerdict`; both judge every host window after the warm-up with
`verdict.judge`, the function the summary uses, so a run shows the same status live and at the end.
Windows a host has not reported yet are simply not there: missing figures are never read as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from peerperf.analysis.host_windows import from_records
from peerperf.analysis.thresholds import warmup_windows
from peerperf.analysis.verdict import RunFacts, Verdict, judge

#: Host fields a window's record keeps (the datapoint schema's per-host figures the verdict reads).
HOST_FIELDS = (
    "hostId",
    "nodeId",
    "window",
    "tickLagMs",
    "tickLagP99",
    "ticksMissed",
    "hostCpuPercent",
    "machineCpuPercent",
    "machineCpus",
)


class LiveVerdict:
    """Host windows by (host, window), and the verdict over them, recomputed only when they changed."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, int], dict[str, Any]] = {}
        self._cached: tuple[RunFacts, Verdict] | None = None

    def datapoint(self, metrics: Mapping[str, Any], timestamp_ms: float | None = None) -> bool:
        """One peer's datapoint: its host's window (kept when first seen) and its packets received, added to
        the host's. True when the host window is new (its host figures count once)."""
        key = _key(metrics)
        if key is None:
            return False
        record = self._windows.get(key)
        new = record is None
        if record is None:
            record = self._windows[key] = _record(metrics, timestamp_ms)
            record["receivedBySubtype"] = {}
        received = record["receivedBySubtype"]
        for subtype, count in (metrics.get("receivedBySubtype") or {}).items():
            received[subtype] = received.get(subtype, 0) + count
        self._cached = None
        return new

    def host_window(self, fields: Mapping[str, Any], timestamp_ms: float | None = None) -> None:
        """A host's window as the host summed it (its fields, its peers' `receivedBySubtype`, and the
        `timestamp` it closed at unless `timestamp_ms` is given)."""
        key = _key(fields)
        if key is None or key in self._windows:
            return
        record = _record(fields, timestamp_ms)
        record["receivedBySubtype"] = dict(fields.get("receivedBySubtype") or {})
        self._windows[key] = record
        self._cached = None

    def verdict(self, facts: RunFacts | None = None, interval_s: float | None = None) -> Verdict:
        """The verdict over every host window after the warm-up so far."""
        facts = facts or RunFacts()
        if self._cached is not None and self._cached[0] == facts:
            return self._cached[1]
        records = list(self._windows.values())
        every = from_records(records)
        interval = interval_s or every.interval_s()
        first = warmup_windows(interval) + 1
        result = judge(from_records([r for r in records if r["window"] >= first]), facts, interval)
        self._cached = (facts, result)
        return result


def _key(metrics: Mapping[str, Any]) -> tuple[str, int] | None:
    host, window = metrics.get("hostId"), metrics.get("window")
    if not isinstance(host, str) or not host or not isinstance(window, int):
        return None
    return host, window


def _record(metrics: Mapping[str, Any], timestamp_ms: float | None) -> dict[str, Any]:
    record = {name: metrics[name] for name in HOST_FIELDS if metrics.get(name) is not None}
    timestamp = timestamp_ms if timestamp_ms is not None else metrics.get("timestamp")
    if timestamp is not None:
        record["timestamp"] = timestamp
    return record
