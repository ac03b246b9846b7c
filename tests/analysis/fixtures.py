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

    def peer_id(self, index: int) -> str:
        return f"{self.test_id}-peer-{index}"

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for window in range(1, self.windows + 1):
            for index in range(self.peers):
                out.append(self.row(index, window))
        return out

    def row(self, index: int, window: int) -> dict[str, Any]:
        others = (self.peers - 1) * self.positions
        lost = round(others * self.lost.get(index, 0.0))
        latencies = self.latency_ms.get(index, [5.0])
        latency = Histogram()
        for k in range(others - lost):
            latency.record(latencies[k % len(latencies)])
        hops = Histogram(Scale.LINEAR)
        for _ in range(others - lost):
            hops.record(1 + index % 2)
        lag = Histogram()
        for _ in range(120):
            lag.record(self.tick_lag_ms)
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
            "originated": self.positions,
            "originatedOneHop": 0,
            "originatedPerSecond": self.positions / 2,
            "originatedBySubtype": {"position": self.positions},
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
            "tickLagP99": self.tick_lag_ms,
            "ticksMissed": self.ticks_missed,
            "hostCpuPercent": self.host_cpu,
            "machineCpuPercent": 40.0,
            "machineCpus": 2,
            "connectSetupMs": [] if window > 1 else Histogram.decode([]).encode(),
        }
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows()).assign(testId=self.test_id)
