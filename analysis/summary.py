"""A run's headline figures, and whether the harness itself was the bottleneck.

Per-peer rates are averaged over each peer's windows except its first (which covers the random
start offset), then across peers. The harness counts as saturated when its tick loop ran late or
skipped ticks, or its hosts ran out of CPU, in enough windows to bend the measurements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

#: A tick more than two periods late (60 Hz) counts as a late tick.
LATE_TICK_MS = 2 * 1000 / 60
#: Share of windows allowed to be late or CPU-bound before the run is called saturated.
SATURATED_SHARE = 0.10
CPU_BOUND_PERCENT = 90.0


@dataclass(frozen=True)
class Figure:
    label: str
    value: float | int | str
    unit: str = ""


@dataclass(frozen=True)
class RunSummary:
    peers: int
    datapoints: int
    figures: list[Figure]
    saturated: bool
    saturation_reasons: list[str] = field(default_factory=list)


def steady(frame: pd.DataFrame) -> pd.DataFrame:
    """Datapoints without each peer's first window."""
    ordered = frame.sort_values(["peerId", "timestamp"])
    return ordered[ordered.groupby("peerId").cumcount() > 0]


def per_peer_mean(frame: pd.DataFrame, column: str) -> float:
    if column not in frame or frame[column].isna().all():
        return float("nan")
    return float(frame.groupby("peerId")[column].mean().mean())


def summarize(frame: pd.DataFrame) -> RunSummary:
    if frame.empty:
        return RunSummary(0, 0, [], False, ["no datapoints"])
    body = steady(frame)
    if body.empty:
        body = frame
    connections = frame["connectedPeers"].map(len) if "connectedPeers" in frame else pd.Series([0])
    figures = [
        Figure("connections per peer", round(float(connections.mean()), 2), f"min {int(connections.min())}"),
        Figure("originated per peer", round(per_peer_mean(body, "originatedPerSecond"), 2), "packets/s"),
        Figure("sent per peer", round(per_peer_mean(body, "sentPerSecond"), 2), "packets/s"),
        Figure("received per peer", round(per_peer_mean(body, "receivedPerSecond"), 2), "packets/s"),
        Figure("relevant per peer", round(per_peer_mean(body, "relevantPerSecond"), 2), "packets/s"),
        Figure("relayed per peer", round(per_peer_mean(body, "relayedPerSecond"), 2), "packets/s"),
        Figure("duplicates per peer", round(per_peer_mean(body, "duplicatePerSecond"), 2), "packets/s"),
        Figure("expired per peer", round(per_peer_mean(body, "expiredPerSecond"), 2), "packets/s"),
        Figure("received bytes per peer", round(per_peer_mean(body, "receivedBytesPerSecond") / 1000, 2), "kB/s"),
    ]
    if "averageLatency" in frame and frame["averageLatency"].notna().any():
        figures.append(Figure("average latency", round(float(frame["averageLatency"].mean()), 2), "ms"))
    figures += unknown_keys(frame)
    reasons = saturation(frame)
    figures += [
        Figure("tick lag p99 (worst window)", round(float(frame.get("tickLagP99", pd.Series([0.0])).max()), 2), "ms"),
        Figure(
            "ticks missed per window",
            round(float(frame.get("ticksMissed", pd.Series([0])).fillna(0).mean()), 2),
            "ticks (host-wide)",
        ),
        Figure(
            "host CPU (worst window)",
            round(float(frame.get("hostCpuPercent", pd.Series([0.0])).max()), 1),
            "% of a core",
        ),
    ]
    return RunSummary(int(frame["peerId"].nunique()), len(frame), figures, bool(reasons), reasons)


def unknown_keys(frame: pd.DataFrame) -> list[Figure]:
    """Datapoints that carried keys peerperf does not declare (kept in the `extra` JSON column)."""
    if "extra" not in frame or frame["extra"].isna().all():
        return []
    extras = frame["extra"].dropna()
    keys = sorted({key for text in extras.unique() for key in json.loads(text)})
    return [Figure("datapoints with unknown metric keys", len(extras), "keys: " + ", ".join(keys))]


def saturation(frame: pd.DataFrame) -> list[str]:
    """Why the generator, not the network, may have limited this run (empty when it did not)."""
    reasons = []
    if "tickLagP99" in frame:
        late = float((frame["tickLagP99"] > LATE_TICK_MS).mean())
        if late > SATURATED_SHARE:
            reasons.append(f"tick loop late (p99 > {LATE_TICK_MS:.0f} ms) in {late:.0%} of windows")
    if "ticksMissed" in frame:  # host-wide figure repeated on each of the host's datapoints
        missed = float(frame["ticksMissed"].fillna(0).mean())
        if missed > 1:
            reasons.append(f"hosts fell behind and skipped {missed:.1f} ticks per window on average")
    if "hostCpuPercent" in frame:
        busy = float((frame["hostCpuPercent"] >= CPU_BOUND_PERCENT).mean())
        if busy > SATURATED_SHARE:
            reasons.append(f"host processes CPU-bound (>= {CPU_BOUND_PERCENT:.0f}% of a core) in {busy:.0%} of windows")
    return reasons
