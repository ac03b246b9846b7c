"""The metrics a peer measures beyond the original's packet counts: delivery, latency, hops, connections.

These are the figures a verdict needs (did packets arrive, how late, over how many hops, how
healthy was the mesh). Each window's values are taken at once by `take()`, as the original's
stats windows are, and every histogram is a mergeable `Histogram` so a run's percentiles come
from merged counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from peerperf.peer.delivery import DeliveryTracker
from peerperf.peer.origin_windows import OriginWindows
from peerperf.protocol.histogram import Histogram, Scale

#: Subtypes whose latency gets its own histogram; every other subtype goes to `latencyOtherMs`.
LATENCY_SUBTYPES = ("position", "profile", "chat")


def latency_field(subtype: str) -> str:
    """The metric holding the latency histogram of `subtype`."""
    name = subtype if subtype in LATENCY_SUBTYPES else "other"
    return f"latency{name.capitalize()}Ms"


#: `latency_field` of the subtypes with their own histogram (looked up per delivered packet).
_LATENCY_FIELDS = {subtype: latency_field(subtype) for subtype in LATENCY_SUBTYPES}
_OTHER_LATENCY = latency_field("other")


@dataclass
class DeliveryMetrics:
    """One peer's delivery, latency, hop and connection measurements for the current window."""

    delivery: DeliveryTracker = field(default_factory=DeliveryTracker)
    #: Packets created and first arrivals by origin window (exact delivery; counted once the grid is set).
    windows: OriginWindows = field(default_factory=OriginWindows)
    latency: dict[str, Histogram] = field(default_factory=dict)
    hops: Histogram = field(default_factory=lambda: Histogram(Scale.LINEAR))
    connect_setup: Histogram = field(default_factory=Histogram)
    delivered: Counter[str] = field(default_factory=Counter)
    originated: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)
    originated_one_hop: int = 0
    arrived_expired: int = 0
    connection_failures: int = 0
    reconnections: int = 0
    #: Ping rounds this peer started (whose pongs it collects), so a run shows when rounds happen.
    ping_rounds: int = 0

    def record_arrival(self, subtype: str, hops: int, latency_ms: float) -> None:
        """An app message handed to the application: its subtype, the hops it travelled and its latency."""
        self.delivered[subtype] += 1
        self.hops.record(hops)
        name = _LATENCY_FIELDS.get(subtype, _OTHER_LATENCY)
        histogram = self.latency.get(name)
        if histogram is None:
            histogram = self.latency[name] = Histogram()
        histogram.record(latency_ms)

    def take(self, now: float) -> dict[str, Any]:
        """This window's metrics (peerperf's keys of the datapoint schema); starts a new window."""
        window = self.delivery.close_window(now)
        out: dict[str, Any] = {
            "uniqueReceived": window.unique,
            "missing": window.missing,
            "lateArrivals": window.late,
            "arrivedExpired": self.arrived_expired,
            "deliveredBySubtype": dict(self.delivered),
            "originatedBySubtype": dict(self.originated),
            "originatedOneHop": self.originated_one_hop,
            "hops": self.hops.take(),
            "connectSetupMs": self.connect_setup.take(),
            "connectionFailures": self.connection_failures,
            "connectionRejects": dict(self.rejects),
            "reconnections": self.reconnections,
            "pingRounds": self.ping_rounds,
            **self.windows.take(),
        }
        for subtype in (*LATENCY_SUBTYPES, "other"):
            name = latency_field(subtype)
            histogram = self.latency.get(name)
            out[name] = histogram.take() if histogram is not None else []
        self.delivered, self.originated, self.rejects = Counter(), Counter(), Counter()
        self.originated_one_hop = self.arrived_expired = self.connection_failures = self.reconnections = 0
        self.ping_rounds = 0
        return out
