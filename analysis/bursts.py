"""Short periodic bursts told apart from sustained saturation, and what coincided with them.

A host window is *late* when its own tick-lag p99 or skipped ticks pass the verdict's limits. An
overloaded run whose late windows are a minority on every host, whose CPU stayed well below the
limit and whose other windows were within the limits had *bursts*: the harness kept up except at
moments (ten peers pinging in lockstep, say). Their period is the spacing of a host's late windows;
what coincided is the activity (packets received, by subtype) that was much higher in the late
windows than in the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from peerperf.analysis.host_windows import HostWindows, percentile
from peerperf.analysis.thresholds import (
    BURST_CPU_PERCENT,
    COINCIDENCE_RATIO,
    CPU_BOUND_PERCENT,
    CPU_BOUND_SHARE,
    LATE_TICK_MS,
    MISSED_SHARE,
    SUSTAINED_LATE_SHARE,
)

#: Subtypes named together: a ping round is one ping from each peer and a pong from every other.
GROUPS = {"ping": "ping rounds", "pong": "ping rounds"}


@dataclass(frozen=True)
class Bursts:
    """The late windows of a run and their pattern."""

    late_windows: int
    host_windows: int
    #: Mean spacing of a host's late windows, s (None: fewer than two such gaps over all hosts).
    period_s: float | None = None
    #: Whether that spacing held (three quarters of the gaps within a window of it).
    regular: bool = False
    #: Share of the late windows' numbers in which every host reporting was late.
    together: float = 0.0
    hosts: int = 1
    #: What coincided with the late windows, each with its figures.
    coincided: list[str] = field(default_factory=list)

    def describe(self) -> str:
        share = self.late_windows / self.host_windows if self.host_windows else 0.0
        text = f"late windows: {self.late_windows} of {self.host_windows} host windows ({share:.0%})"
        if self.period_s is not None:
            text += f", about every {self.period_s:.1f} s" + (" (regular)" if self.regular else " (irregular)")
        if self.hosts > 1 and self.together >= 0.75:
            text += f", on all {self.hosts} hosts at once"
        if self.coincided:
            text += "; coincided with " + ", ".join(self.coincided)
        return text


def late_windows(windows: HostWindows, lag_p99: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """Which host windows were late on their own: tick-lag p99 or skipped ticks past the limits."""
    missed = np.nan_to_num(windows.missed)
    due = ticks + missed
    with np.errstate(invalid="ignore", divide="ignore"):
        skipped = np.where(due > 0, missed / due, 0.0)
    return (np.nan_to_num(lag_p99) > LATE_TICK_MS) | (skipped > MISSED_SHARE)


def sustained(windows: HostWindows, late: np.ndarray, ticks: np.ndarray) -> list[str]:
    """Why an overloaded run was overloaded throughout rather than in bursts (empty: it had bursts)."""
    why = []
    if not late.any():
        return ["no window was late on its own: the lag was spread over all of them"]
    hosts, host_code = np.unique(windows.host, return_inverse=True)
    shares = np.bincount(host_code, weights=late, minlength=len(hosts)) / np.bincount(host_code, minlength=len(hosts))
    if shares.max() > SUSTAINED_LATE_SHARE:
        worst = int(shares.argmax())
        many = int((shares > SUSTAINED_LATE_SHARE).sum())
        why.append(
            f"{many} of {len(hosts)} hosts late in most of their windows (worst: {hosts[worst]}, {shares[worst]:.0%})"
        )
    cpu = windows.cpu[~np.isnan(windows.cpu)]
    if len(cpu):
        if float((cpu >= CPU_BOUND_PERCENT).mean()) > CPU_BOUND_SHARE:
            why.append("CPU-bound")
        elif float(np.quantile(cpu, 0.9)) >= BURST_CPU_PERCENT:
            why.append(
                f"host CPU p90 {np.quantile(cpu, 0.9):.0f}% of a core (bursts stay below {BURST_CPU_PERCENT:.0f}%)"
            )
    quiet = ~late
    if quiet.any():
        between = percentile(windows.lag_counts(quiet), 99)
        if between > LATE_TICK_MS:
            why.append(f"tick lag p99 {between:.1f} ms between the late windows too")
        missed = float(np.nan_to_num(windows.missed[quiet]).sum())
        due = float(ticks[quiet].sum()) + missed
        if due and missed / due > MISSED_SHARE:
            why.append(f"{missed / due:.1%} of ticks skipped between the late windows too")
    return why


def pattern(windows: HostWindows, late: np.ndarray, interval_s: float) -> Bursts:
    """The late windows' period, simultaneity across hosts, and what coincided with them."""
    hosts, host_code = np.unique(windows.host, return_inverse=True)
    order = np.lexsort((windows.window, host_code))
    order = order[late[order]]  # each host's late windows, in order
    same_host = host_code[order][1:] == host_code[order][:-1]
    gaps = np.diff(windows.window[order])[same_host].astype(float)
    period, regular = None, False
    if len(gaps) >= 2:
        mean_gap = float(gaps.mean())
        period = mean_gap * interval_s
        regular = float(np.mean(np.abs(gaps - mean_gap) <= 1.0)) >= 0.75
    numbers, number_code = np.unique(windows.window, return_inverse=True)
    late_hosts = np.bincount(number_code, weights=late, minlength=len(numbers))
    reporting = np.bincount(number_code, minlength=len(numbers))
    any_late = late_hosts > 0
    together = float(np.mean(late_hosts[any_late] == reporting[any_late])) if any_late.any() else 0.0
    coincided = _coincided(windows, late)
    if period is not None and period <= 1.25 * interval_s:
        coincided.append("every window's close (each host closes and submits its peers' windows together)")
    return Bursts(int(late.sum()), len(windows), period, regular, together, len(hosts), coincided)


def _coincided(windows: HostWindows, late: np.ndarray) -> list[str]:
    named: dict[str, np.ndarray] = {}
    for subtype, counts in windows.activity.items():
        name = GROUPS.get(subtype, subtype)
        named[name] = named[name] + counts if name in named else counts.copy()
    out = []
    quiet = ~late
    for name, counts in sorted(named.items()):
        during = float(counts[late].mean()) if late.any() else 0.0
        between = float(counts[quiet].mean()) if quiet.any() else 0.0
        if during > 0 and during >= COINCIDENCE_RATIO * between:
            out.append(f"{name} ({during:,.0f} packets received per late host window vs {between:,.0f} in the others)")
    return out
