"""Was the harness itself the bottleneck, or broken? A verdict with its evidence, never without.

One function, `judge`, over one shape (`HostWindows`, one row per host and window, plus the run's
`RunFacts`), so the summary, the live page and the live view give the same verdict from the same
evidence. Statuses, most serious first:

- `saturated`: the load generator ran late or out of CPU throughout (tick-lag p99, skipped ticks or
  CPU-bound windows past the limits in `thresholds.py`, and no sign that it was only bursts), or a
  browser host's Chromium used more than that limit of its share of cores (`browser_hosts.py`);
- `faulty`: the harness failed in part: unexpected errors in its loops, peers lost or that stopped
  reporting, datapoints the results service refused, browser hosts that lost pages;
- `bursts`: overloaded in short (usually periodic) bursts, fine in between: the figures hold
  between the bursts, but latency in the burst windows includes the harness's own stalls;
- `unknown`: some host window lacks tick-lag or CPU evidence, or some browser host its CPU (a verdict
  without evidence would be a guess);
- `healthy`: every host window has its evidence and none of the above.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from peerperf.analysis.browser_hosts import BrowserHost, judge_browser_hosts
from peerperf.analysis.bursts import Bursts, late_windows, pattern, sustained
from peerperf.analysis.host_windows import HostWindows, percentile
from peerperf.analysis.thresholds import (
    CPU_BOUND_PERCENT,
    CPU_BOUND_SHARE,
    LATE_TICK_MS,
    MACHINE_BUSY_PERCENT,
    MISSED_SHARE,
    OTHER_WORK_PERCENT,
    TOLERATED_HARNESS_ERRORS,
    TOLERATED_LOST_PEERS,
    TOLERATED_REFUSED_DATAPOINTS,
)


class Status(StrEnum):
    HEALTHY = "healthy"
    BURSTS = "bursts"
    SATURATED = "saturated"
    FAULTY = "faulty"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RunFacts:
    """What the run knows about its own failures, beside the hosts' windows (None: not known here)."""

    #: Unexpected exceptions in the peers' and hosts' loops.
    harness_errors: int | None = None
    #: Peers whose host failed during the test.
    peers_lost: int | None = None
    #: Peers that stopped reporting before the end, or never reported.
    peers_dropped_out: int | None = None
    peers_never_reported: int | None = None
    #: Peers whose host failed and came back (`--restart-hosts`): their load was missing meanwhile.
    peers_restarted: int | None = None
    #: Datapoints the results service refused.
    datapoints_refused: int | None = None
    #: The browser hosts' own figures over the test (`browser_hosts.from_metadata`).
    browser_hosts: tuple[BrowserHost, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The harness verdict, why, and the figures it rests on."""

    status: Status
    reasons: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    bursts: Bursts | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "reasons": self.reasons,
            "evidence": self.evidence,
            "figures": self.figures,
            "bursts": asdict(self.bursts) if self.bursts is not None else None,
        }


def judge(windows: HostWindows, facts: RunFacts | None = None, interval_s: float | None = None) -> Verdict:
    """The verdict over these host windows (usually the steady state's) and the run's facts."""
    facts = facts or RunFacts()
    faults, fault_evidence = _faults(facts)
    browsers = judge_browser_hosts(facts.browser_hosts)
    faults += browsers.faults
    fault_evidence += browsers.evidence
    if len(windows) == 0:
        status = Status.FAULTY if faults else Status.SATURATED if browsers.saturated else Status.UNKNOWN
        reasons = [*browsers.saturated, *faults, "no host windows: no evidence of the harness's health"]
        return Verdict(status, reasons, fault_evidence, browsers.figures)
    figures: dict[str, float] = {"hostWindows": float(len(windows)), **browsers.figures}
    lag_p99_rows, ticks = windows.lag_p99(), windows.ticks()
    found = [_lag(windows, figures), _missed(windows, ticks, figures), _cpu(windows, figures)]
    reasons = [reason for reason, _ in found if reason]
    evidence = [line for _, line in found if line]
    late = late_windows(windows, lag_p99_rows, ticks)
    bursts = pattern(windows, late, interval_s or windows.interval_s()) if late.any() else None
    if bursts is not None:
        figures["lateWindows"] = float(bursts.late_windows)
        evidence.append(bursts.describe())
    machine = _machine(windows, figures)
    evidence += [machine] if machine else []
    evidence += fault_evidence
    if reasons and "busy with other work" in machine:
        reasons.append(machine)
    if browsers.saturated:  # a browser host's figure covers the whole test: sustained by definition
        return Verdict(Status.SATURATED, [*browsers.saturated, *reasons, *faults], evidence, figures, bursts)
    if reasons:
        why = sustained(windows, late, ticks)
        if why:
            return Verdict(Status.SATURATED, [*reasons, *(f"sustained: {w}" for w in why), *faults], evidence, figures)
        reasons.append("in bursts only: the windows between them were within the limits")
    if faults:
        return Verdict(Status.FAULTY, [*faults, *reasons], evidence, figures, bursts if reasons else None)
    if reasons:
        return Verdict(Status.BURSTS, reasons, evidence, figures, bursts)
    missing = _missing(windows, lag_p99_rows)
    if browsers.unjudged:
        missing.append(f"the Chromium CPU (or machine cores) of browser hosts {', '.join(browsers.unjudged)}")
    if missing:
        return Verdict(Status.UNKNOWN, [f"no evidence for: {', '.join(missing)}"], evidence, figures)
    return Verdict(Status.HEALTHY, [], evidence, figures)


def _lag(windows: HostWindows, figures: dict[str, float]) -> tuple[str, str]:
    """The host-wide tick-lag p99 (merged histograms, else the worst window's): (reason, evidence)."""
    merged = windows.lag_counts()
    if merged.sum() > 0:
        lag_p99, source = percentile(merged, 99), "merged tick-lag histograms"
    else:
        reported = windows.lag_p99_reported[~np.isnan(windows.lag_p99_reported)]
        lag_p99, source = (float(reported.max()) if len(reported) else math.nan), "worst window's p99"
    if math.isnan(lag_p99):
        return "", ""
    figures["tickLagP99Ms"] = lag_p99
    reason = f"the tick loop ran late: p99 {lag_p99:.1f} ms > {LATE_TICK_MS:.1f} ms" if lag_p99 > LATE_TICK_MS else ""
    return reason, f"tick lag p99 {lag_p99:.1f} ms ({source}; limit {LATE_TICK_MS:.1f} ms)"


def _missed(windows: HostWindows, ticks: np.ndarray, figures: dict[str, float]) -> tuple[str, str]:
    """Ticks skipped, as a share of due ticks when the histograms count the others: (reason, evidence)."""
    missed = windows.missed[~np.isnan(windows.missed)]
    if not len(missed):
        return "", ""
    due = float(ticks.sum() + missed.sum()) if ticks.sum() > 0 else math.nan
    share = float(missed.sum()) / due if due else math.nan
    figures["ticksMissed"] = float(missed.sum())
    shown = f" ({share:.1%} of due ticks)" if not math.isnan(share) else ""
    behind = share > MISSED_SHARE if not math.isnan(share) else missed.mean() > 1
    reason = f"hosts fell behind and skipped {int(missed.sum())} ticks{shown}" if behind else ""
    return reason, f"{int(missed.sum())} ticks skipped{shown}"


def _cpu(windows: HostWindows, figures: dict[str, float]) -> tuple[str, str]:
    """The host processes' CPU and the share of CPU-bound host windows: (reason, evidence)."""
    cpu = windows.cpu[~np.isnan(windows.cpu)]
    if not len(cpu):
        return "", ""
    bound, p90 = float((cpu >= CPU_BOUND_PERCENT).mean()), float(np.quantile(cpu, 0.9))
    figures.update(hostCpuMaxPercent=float(cpu.max()), hostCpuP90Percent=p90, cpuBoundShare=bound)
    reason = f"host processes were CPU-bound in {bound:.0%} of host windows" if bound > CPU_BOUND_SHARE else ""
    return reason, (
        f"host CPU p90 {p90:.0f}%, max {cpu.max():.0f}% of a core, CPU-bound (>= {CPU_BOUND_PERCENT:.0f}%) in "
        f"{bound:.0%} of host windows"
    )


def _faults(facts: RunFacts) -> tuple[list[str], list[str]]:
    """The harness's own failures past what `thresholds.py` tolerates (reasons), and one evidence line."""
    counted = (
        (facts.harness_errors, TOLERATED_HARNESS_ERRORS, "harness errors (unexpected exceptions, see the logs)"),
        (facts.peers_lost, TOLERATED_LOST_PEERS, "peers lost when their host failed"),
        (facts.peers_dropped_out, TOLERATED_LOST_PEERS, "peers that stopped reporting early"),
        (facts.peers_never_reported, TOLERATED_LOST_PEERS, "peers that never reported"),
        (
            facts.peers_restarted,
            TOLERATED_LOST_PEERS,
            "peers restarted when their host failed (their load was missing until it came back)",
        ),
        (facts.datapoints_refused, TOLERATED_REFUSED_DATAPOINTS, "datapoints refused by the results service"),
    )
    known = [(count, tolerated, what) for count, tolerated, what in counted if count is not None]
    reasons = [f"{count} {what}" for count, tolerated, what in known if count > tolerated]
    line = ", ".join(f"{what.split(' (')[0]} {count}" for count, _, what in known)
    return reasons, [line] if line else []


def _missing(windows: HostWindows, lag_p99_rows: np.ndarray) -> list[str]:
    """What evidence some host windows lack."""
    out = []
    for what, absent in (("tick lag", np.isnan(lag_p99_rows)), ("host CPU", np.isnan(windows.cpu))):
        if absent.all():
            out.append(what)
        elif absent.any():
            out.append(f"{what} of {int(absent.sum())} of {len(windows)} host windows")
    return out


def _machine(windows: HostWindows, figures: dict[str, float]) -> str:
    """Whether the machines were busy, and with our hosts or with other work."""
    busy = windows.machine_cpu
    if np.isnan(busy).all():
        return ""
    p90 = float(np.nanquantile(busy, 0.9))
    figures["machineCpuP90Percent"] = p90
    note = f"machine CPU p90 {p90:.0f}% of all cores"
    known = ~np.isnan(busy) & ~np.isnan(windows.machine_cpus) & ~np.isnan(windows.cpu) & (windows.machine_cpus > 0)
    if not known.any():
        return note
    nodes = np.unique(windows.node[known], return_inverse=True)[1]
    groups, code = np.unique(nodes * (int(windows.window.max()) + 1) + windows.window[known], return_inverse=True)
    ours = np.bincount(code, weights=windows.cpu[known] / windows.machine_cpus[known], minlength=len(groups))
    machine = np.full(len(groups), -np.inf)
    np.maximum.at(machine, code, busy[known])
    busy_groups = machine >= MACHINE_BUSY_PERCENT
    if not busy_groups.any():
        return note
    other = float((machine[busy_groups] - ours[busy_groups]).mean())
    figures["machineOtherWorkPercent"] = other
    if other > OTHER_WORK_PERCENT:
        return f"{note}; the machine was busy with other work: {other:.0f}% of all cores beyond our hosts"
    return f"{note}; the machine was busy with our own hosts"
