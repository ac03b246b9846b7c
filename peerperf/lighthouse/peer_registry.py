"""What the lighthouse knows about each connected peer, and the connection hints built from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peerperf.protocol.positions import DEFAULT_DISTANCE_INTERVALS, discretized_distance, distance
from peerperf.protocol.signaling_frames import OptimalConnection

#: Most hints one OPTIMAL_NETWORK_RESPONSE carries.
MAX_HINTS = 100


@dataclass
class PeerInfo:
    """A peer's last reported state (pruned when it disconnects, unlike the original)."""

    id: str
    protocol_version: int | None = None
    position: tuple[float, ...] | None = None
    parcel: tuple[int, ...] | None = None
    connected_peer_ids: tuple[str, ...] = ()
    #: Server wall clock (ms) of the last HEARTBEAT.
    last_ping_ms: int | None = None

    def user_json(self) -> dict[str, Any]:
        """The original's UserJson: `userId` and `peerId` repeat `id` for old clients."""
        out: dict[str, Any] = {"id": self.id, "userId": self.id, "peerId": self.id}
        if self.protocol_version is not None:
            out["protocolVersion"] = self.protocol_version
        if self.parcel is not None:
            out["parcel"] = list(self.parcel)
        if self.position is not None:
            out["position"] = list(self.position)
        if self.last_ping_ms is not None:
            out["lastPing"] = self.last_ping_ms
        return out

    def topology_json(self, layer_id: str) -> dict[str, Any]:
        return {**self.user_json(), "layer": layer_id, "connectedPeerIds": list(self.connected_peer_ids)}


class PeerRegistry:
    """PeerInfo by id for every connected peer."""

    def __init__(self) -> None:
        self._peers: dict[str, PeerInfo] = {}

    def ensure(self, peer_id: str) -> PeerInfo:
        return self._peers.setdefault(peer_id, PeerInfo(peer_id))

    def get(self, peer_id: str) -> PeerInfo | None:
        return self._peers.get(peer_id)

    def remove(self, peer_id: str) -> None:
        self._peers.pop(peer_id, None)

    def users(self, peer_ids: Iterable[str]) -> list[dict[str, Any]]:
        return [self.ensure(peer_id).user_json() for peer_id in peer_ids]

    def optimal_connections(
        self,
        requester: PeerInfo,
        members: Iterable[str],
        max_distance: float | None,
        intervals: tuple[float, ...] = DEFAULT_DISTANCE_INTERVALS,
    ) -> list[OptimalConnection]:
        """Layer members with a known position within `max_distance` world units, nearest first.

        The original compared `max_distance` (world units) with a discretized band index, so it
        never filtered anything; here both sides are world units. `distance` in each hint is still
        the discretized band, as original peers expect.
        """
        assert requester.position is not None
        scored = []
        for peer_id in members:
            info = self._peers.get(peer_id)
            if info is None or info.id == requester.id or info.position is None:
                continue
            d = distance(requester.position, info.position)
            if max_distance is None or d <= max_distance:
                scored.append((d, info.id, info.position))
        scored.sort()
        return [
            OptimalConnection(peer_id, discretized_distance(requester.position, pos, intervals), pos)
            for _, peer_id, pos in scored[:MAX_HINTS]
        ]
