"""Was the harness itself the bottleneck? A verdict with its evidence, never without.

Every host reports, for each window, its tick-lag histogram, skipped ticks, process CPU, and the
machine's CPU busy share. Host figures are counted once per (host, window), however many peers
carried them. The run is `saturated` when the load generator ran late or out of CPU, `healthy`
when every host window has evidence and none shows it, and `unknown` when evidence is missing:
a verdict without evidence would be a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from peerperf.analysis.histograms import as_arrow, bucket_counts, nested, percentiles
from peerperf.analysis.thresholds import (
    CPU_BOUND_PERCENT,
    CPU_BOUND_SHARE,
    LATE_TICK_MS,
    MACHINE_BUSY_PERCENT,
    MISSED_SHARE,
)


class Status(StrEnum):
    HEALTHY = "healthy"
    SATURATED = "saturated"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """The harness verdict, why, and the figures it rests on."""

    status: Status
    reasons: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


def host_windows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (test, host, window): host-wide figures repeat on each peer's datapoint."""
    if "hostId" not in frame or frame["hostId"].isna().all():
        return frame
    return frame.drop_duplicates(["testId", "hostId", "window"])  # keeps `_row`, where histograms are read


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(math.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce")


def harness_verdict(frame: pd.DataFrame, source: pd.DataFrame | None = None) -> Verdict:
    """The verdict over the datapoints given (usually the steady state; `source`: see `windows.steady`)."""
    hosts = host_windows(frame)
    lags = nested(hosts, source, "tickLagMs")
    if hosts.empty:
        return Verdict(Status.UNKNOWN, ["no datapoints"])
    figures: dict[str, float] = {"hostWindows": float(len(hosts))}
    reasons: list[str] = []
    evidence: list[str] = []
    missing_evidence: list[str] = []

    lag_counts, lag_absent = _lag_histograms(lags)
    if lag_counts is not None:
        (lag_p99,) = percentiles(lag_counts, [99])
        lag_source = "merged tick-lag histograms"
    else:
        lag_p99 = float(_numbers(hosts, "tickLagP99").max())  # an upper bound without histograms
        lag_source = "worst window's p99"
    if math.isnan(lag_p99):
        missing_evidence.append("tick lag")
    else:
        figures["tickLagP99Ms"] = lag_p99
        evidence.append(f"tick lag p99 {lag_p99:.1f} ms ({lag_source}; limit {LATE_TICK_MS:.1f} ms)")
        if lag_p99 > LATE_TICK_MS:
            reasons.append(f"the tick loop ran late: p99 {lag_p99:.1f} ms > {LATE_TICK_MS:.1f} ms")

    missed = _numbers(hosts, "ticksMissed")
    if missed.notna().any():
        due = float(lag_counts.sum() + missed.sum()) if lag_counts is not None else math.nan
        share = float(missed.sum()) / due if due and not math.isnan(due) else math.nan
        figures["ticksMissed"] = float(missed.sum())
        shown = f" ({share:.1%} of due ticks)" if not math.isnan(share) else ""
        evidence.append(f"{int(missed.sum())} ticks skipped{shown}")
        if (not math.isnan(share) and share > MISSED_SHARE) or (math.isnan(share) and missed.mean() > 1):
            reasons.append(f"hosts fell behind and skipped {int(missed.sum())} ticks{shown}")

    cpu = _numbers(hosts, "hostCpuPercent")
    if cpu.notna().any():
        bound = float((cpu >= CPU_BOUND_PERCENT).mean())
        figures["hostCpuMaxPercent"] = float(cpu.max())
        figures["cpuBoundShare"] = bound
        evidence.append(
            f"host CPU max {cpu.max():.0f}% of a core, CPU-bound (>= {CPU_BOUND_PERCENT:.0f}%) in {bound:.0%} of "
            "host windows"
        )
        if bound > CPU_BOUND_SHARE:
            reasons.append(f"host processes were CPU-bound in {bound:.0%} of host windows")
    else:
        missing_evidence.append("host CPU")

    machine_note = _machine(hosts, figures)
    if machine_note:
        evidence.append(machine_note)

    incomplete = _incomplete(hosts, lag_counts, lag_absent)
    if incomplete:
        missing_evidence.append(incomplete)
    if reasons:
        if machine_note and "busy with other work" in machine_note:
            reasons.append(machine_note)
        return Verdict(Status.SATURATED, reasons, evidence, figures)
    if missing_evidence:
        return Verdict(Status.UNKNOWN, [f"no evidence for: {', '.join(missing_evidence)}"], evidence, figures)
    return Verdict(Status.HEALTHY, [], evidence, figures)


def _machine(hosts: pd.DataFrame, figures: dict[str, float]) -> str:
    """Whether the machines were busy, and with our hosts or with other work."""
    busy = _numbers(hosts, "machineCpuPercent")
    if busy.notna().sum() == 0:
        return ""
    figures["machineCpuP90Percent"] = float(busy.quantile(0.9))
    note = f"machine CPU p90 {busy.quantile(0.9):.0f}% of all cores"
    if "nodeId" not in hosts or "machineCpus" not in hosts:
        return note
    per_node = hosts.assign(ours=_numbers(hosts, "hostCpuPercent") / _numbers(hosts, "machineCpus"), busy=busy).groupby(
        ["nodeId", "window"]
    )
    ours, machine = per_node["ours"].sum(), per_node["busy"].max()
    busy_windows = machine >= MACHINE_BUSY_PERCENT
    if not busy_windows.any():
        return note
    other = float((machine[busy_windows] - ours[busy_windows]).mean())
    figures["machineOtherWorkPercent"] = other
    if other > 25:
        return f"{note}; the machine was busy with other work: {other:.0f}% of all cores beyond our hosts"
    return f"{note}; the machine was busy with our own hosts"


def _lag_histograms(lags: tuple[pd.Series, np.ndarray | None] | None) -> tuple[np.ndarray | None, int]:
    """The host windows' merged tick-lag counts (None when none has any), and how many host windows have none."""
    if lags is None:
        return None, 0
    column, rows = lags
    counts = bucket_counts(column, rows=rows)
    if counts.sum() == 0:
        return None, 0
    lengths = pc.fill_null(pc.list_value_length(as_arrow(column)), 0).to_numpy(zero_copy_only=False)
    return counts, int(((lengths if rows is None else lengths[rows]) == 0).sum())


def _incomplete(hosts: pd.DataFrame, lag_counts: np.ndarray | None, lag_absent: int) -> str:
    if lag_counts is not None:
        absent = lag_absent
    elif "tickLagP99" in hosts:
        absent = int(hosts["tickLagP99"].isna().sum())
    else:
        return "tick lag"
    return f"tick lag of {absent} of {len(hosts)} host windows" if absent else ""
