"""Hand-built datapoints whose right answers are known, for the analysis tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from peerperf.protocol.histogram import Histogram, Scale

INTERVAL_MS = 2000


@dataclass
class Scenario:
    """`peers` peers in one layer and room, `per_host` to a host, sending `positions` per window each.

    `lost[peer]` is the share of the others' packets that peer never got; every delivered packet
    took `latency_ms[peer]` and 1 hop (2 for odd peers); hosts report `tick_lag_ms` every tick.
    With `varying`, a peer sends `positions + window % 3` in a window; `late_share` of the arrivals
    come in the window after the one their packets were created in (in flight across the edge);
    `by_window` adds the counts by origin window (`originatedByWindow`, `arrivedByWindow`).
    """

    peers: int = 4
    windows: int = 8
    per_host: int = 2
    positions: int = 20
    lost: dict[int, float] = field(default_factory=dict)
    latency_ms: dict[int, list[float]] = field(default_factory=dict)
    tick_lag_ms: float = 2.0
    host_cpu: float | None = 30.0
    ticks_missed: int = 0
    test_id: str = "fixture"
    target: int = 2
    varying: bool = False
    late_share: float = 0.0
    by_window: bool = False
    #: Packets received per window by subtype, beside the positions (e.g. {"ping": 40} in some windows).
    activity: dict[int, dict[str, int]] = field(default_factory=dict)
    #: Windows in which 10 of the hosts' 120 ticks ran `burst_lag_ms` late.
    burst_windows: frozenset[int] = frozenset()
    burst_lag_ms: float = 60.0

    def peer_id(self, index: int) -> str:
        return f"{self.test_id}-peer-{index}"

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for window in range(1, self.windows + 1):
            for index in range(self.peers):
                out.append(self.row(index, window))
        return out

    def created(self, window: int) -> int:
        """Packets each peer creates in `window`."""
        return self.positions + (window % 3 if self.varying else 0) if window >= 1 else 0

    def arrivals(self, index: int, window: int) -> tuple[int, int, int]:
        """Of the others' packets created in `window`: (arriving in it, arriving in the next, never arriving)."""
        others = (self.peers - 1) * self.created(window)
        lost = round(others * self.lost.get(index, 0.0))
        late = round((others - lost) * self.late_share)
        return others - lost - late, late, lost

    def row(self, index: int, window: int) -> dict[str, Any]:
        now, _, lost = self.arrivals(index, window)
        before = self.arrivals(index, window - 1)[1]
        others = now + before + lost  # what `uniqueReceived` and `missing` count in this window
        latencies = self.latency_ms.get(index, [5.0])
        latency = Histogram()
        for k in range(others - lost):
            latency.record(latencies[k % len(latencies)])
        hops = Histogram(Scale.LINEAR)
        for _ in range(others - lost):
            hops.record(1 + index % 2)
        lag = Histogram()
        late = 10 if window in self.burst_windows else 0
        for k in range(120):
            lag.record(self.burst_lag_ms if k < late else self.tick_lag_ms)
        host = index // self.per_host
        row: dict[str, Any] = {
            "peerId": self.peer_id(index),
            "timestamp": 1_000_000 + window * INTERVAL_MS + host,
            "window": window,
            "hostId": f"host-{host}",
            "nodeId": "node-1",
            "layer": "blue",
            "room": "room",
            "connectedPeers": [self.peer_id((index + k) % self.peers) for k in range(1, self.target + 1)],
            "originated": self.created(window),
            "originatedOneHop": 0,
            "originatedPerSecond": self.created(window) / 2,
            "originatedBySubtype": {"position": self.created(window)},
            "received": others * 2,
            "duplicate": others,
            "receivedPerSecond": others,
            "uniqueReceived": others - lost,
            "missing": lost,
            "lateArrivals": 0,
            "arrivedExpired": 0,
            "deliveredBySubtype": {"position": others - lost},
            "latencyPositionMs": latency.encode(),
            "hops": hops.encode(),
            "tickLagMs": lag.encode(),
            "tickLagP99": lag.percentile(99),
            "ticksMissed": self.ticks_missed,
            "hostCpuPercent": self.host_cpu,
            "machineCpuPercent": 40.0,
            "machineCpus": 2,
            "connectSetupMs": [] if window > 1 else Histogram.decode([]).encode(),
            "receivedBySubtype": {"position": others * 2, **self.activity.get(window, {})},
        }
        if self.by_window:
            made = self.created(window)
            row["originatedByWindow"] = {str(window): made, f"{window}/position": made}
            arrived = {str(window): now, f"{window}/position": now}
            if before:
                arrived.update({str(window - 1): before, f"{window - 1}/position": before})
            row["arrivedByWindow"] = arrived
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows()).assign(testId=self.test_id)
