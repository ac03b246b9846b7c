"""Closing a peer's stats window into its metrics: the original's body (packet counts, connections,
position, latency) and peerperf's own (delivery metrics, reconnections and harness errors in the window)."""

from __future__ import annotations

import time
from typing import Any

from peerperf.peer.connections import Connections
from peerperf.peer.delivery_metrics import DeliveryMetrics
from peerperf.peer.impairment import Impairment
from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.lighthouse_client import LighthouseClient
from peerperf.peer.packet_counts import GlobalPacketCounts
from peerperf.protocol.positions import Position
from peerperf.supervision import Supervisor


class StatsWindows:
    """One peer's windows; reconnections and harness errors are reported as their growth per window."""

    def __init__(
        self,
        stats: GlobalPacketCounts,
        measures: DeliveryMetrics,
        known: KnownPeers,
        connections: Connections,
        client: LighthouseClient,
        supervisor: Supervisor,
    ) -> None:
        self._stats, self._measures, self._known, self._connections = stats, measures, known, connections
        self._client, self._supervisor = client, supervisor
        self._reconnections_reported = 0
        self._harness_errors_reported = 0

    def body(self, position: Position) -> dict[str, Any]:
        """The original's submission body (reference section 3) for the last closed window."""
        body = self._stats.as_metrics()
        body["connectedPeers"] = list(self._connections.connected_ids())
        body["knownPeersCount"] = len(self._known)
        body["position"] = list(position)
        latency = self._known.average_latency()
        if latency is not None:
            body["averageLatency"] = latency
        return body

    def close(self, position: Position) -> dict[str, Any]:
        """End the window now and return its metrics."""
        self._stats.close_period()
        metrics = self.body(position)
        metrics.update(self._stats.originated_metrics(), connectedPeersCount=len(metrics["connectedPeers"]))
        metrics.update(self._stats.window_metrics())
        self._measures.reconnections = self._client.reconnections - self._reconnections_reported
        self._reconnections_reported = self._client.reconnections
        metrics.update(self._measures.take(time.monotonic()))
        metrics["silentLinks"] = self._connections.silent_links(time.monotonic())
        metrics["harnessErrors"] = self._supervisor.errors - self._harness_errors_reported
        self._harness_errors_reported = self._supervisor.errors
        return metrics


def impairment_metrics(impairment: Impairment | None) -> dict[str, Any]:
    """The `impairment` profile name ("" for none) and, when impaired, the datagram counters."""
    if impairment is None:
        return {"impairment": ""}
    return {"impairment": impairment.profile.name, **impairment.counters.as_metrics()}
