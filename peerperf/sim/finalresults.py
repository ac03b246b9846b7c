"""A peer's final results: what it reports once, when its run ends (`PUT .../peer/{id}/results`).

The original defined the route but its client never called it ("submit summary" was a TODO).
peerperf's peers send their cumulative figures, so a finished test says per peer what it did in
total without reading every datapoint.
"""

from __future__ import annotations

import logging
from typing import Any

from peerperf.errors import PeerperfError
from peerperf.peer import Peer
from peerperf.results.client import ResultsClient
from peerperf.results.model import Submission

log = logging.getLogger(__name__)

_CUMULATIVE_SUFFIXES = ("Total", "TotalBytes", "AveragePacketSize")
_KEPT = ("connectedPeers", "knownPeersCount", "averageLatency")


def final_results(peer: Peer) -> dict[str, Any]:
    """The peer's totals since it started, its last connections and latency."""
    body = {**peer.metrics(), **peer.stats.originated_metrics()}
    return {key: value for key, value in body.items() if key.endswith(_CUMULATIVE_SUFFIXES) or key in _KEPT}


async def submit_final_results(
    results: ResultsClient, test_id: str, peers: dict[str, tuple[Peer, dict[str, float]]], host_id: str
) -> None:
    """Every peer's final results, with the timer phases it ran with; refusals are logged, not raised (the
    run's datapoints are in already)."""
    batch = [
        Submission(peer_id, {**final_results(peer), "timerPhases": phases}) for peer_id, (peer, phases) in peers.items()
    ]
    try:
        refused = (await results.submit_results(test_id, batch)).rejected + (await results.drain()).rejected
    except PeerperfError as exc:
        refused = [str(exc)]
    if refused:
        log.warning("host %s: final results refused: %s", host_id, refused[:3])
