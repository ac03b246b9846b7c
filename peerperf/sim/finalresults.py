"""A peer's final results: what it reports once, when its run ends (`PUT .../peer/{id}/results`).

The original defined the route but its client never called it ("submit summary" was a TODO).
peerperf's peers send their cumulative figures, so a finished test says per peer what it did in
total without reading every datapoint.
"""

from __future__ import annotations

from typing import Any

from peerperf.peer import Peer

_CUMULATIVE_SUFFIXES = ("Total", "TotalBytes", "AveragePacketSize")
_KEPT = ("connectedPeers", "knownPeersCount", "averageLatency")


def final_results(peer: Peer) -> dict[str, Any]:
    """The peer's totals since it started, its last connections and latency."""
    body = {**peer.metrics(), **peer.stats.originated_metrics()}
    return {key: value for key, value in body.items() if key.endswith(_CUMULATIVE_SUFFIXES) or key in _KEPT}
