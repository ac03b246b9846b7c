"""What a peer knows about the other peers of its layer (reference 2.5, 2.9)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from peerperf.protocol.positions import Position

#: Reads a position out of an encoded message (None when it carries none).
PositionDecoder = Callable[[bytes], Position | None]


@dataclass
class SubtypeData:
    """Newest packet seen from one source for one subtype, for `discardOlderThan`."""

    last_timestamp: int
    last_sequence_id: int


@dataclass
class KnownPeer:
    """Another peer of the layer: where it is, how fresh our news of it is, how far in latency.

    A position that arrives encoded (every position message) is decoded only when read: the
    connection policy reads positions a few times a minute, messages bring them many times a second.
    """

    id: str
    _position: Position | None = None
    #: Newest sender timestamp (ms, the sender's clock) seen in any of its packets.
    timestamp: int | None = None
    #: Local monotonic time of the last news (B's `lastUpdated`); drives expiry.
    last_updated: float | None = None
    latency: float | None = None
    subtypes: dict[str, SubtypeData] = field(default_factory=dict)
    _encoded_position: tuple[bytes, PositionDecoder] | None = None

    @property
    def position(self) -> Position | None:
        if self._encoded_position is not None:
            data, decode = self._encoded_position
            self._encoded_position = None
            decoded = decode(data)
            if decoded is not None:
                self._position = decoded
        return self._position

    @position.setter
    def position(self, position: Position | None) -> None:
        self._position, self._encoded_position = position, None


class KnownPeers:
    """Known peers by id."""

    def __init__(self) -> None:
        self._peers: dict[str, KnownPeer] = {}

    def __contains__(self, peer_id: str) -> bool:
        return peer_id in self._peers

    def __len__(self) -> int:
        return len(self._peers)

    def ids(self) -> list[str]:
        return list(self._peers)

    def get(self, peer_id: str) -> KnownPeer | None:
        return self._peers.get(peer_id)

    def ensure(self, peer_id: str) -> KnownPeer:
        """The known peer `peer_id`, added if new (runs per packet: allocates only for a new peer)."""
        peer = self._peers.get(peer_id)
        if peer is None:
            peer = self._peers[peer_id] = KnownPeer(peer_id)
        return peer

    def remove(self, peer_id: str) -> None:
        self._peers.pop(peer_id, None)

    def clear(self) -> None:
        self._peers.clear()

    def update_position(self, peer_id: str, position: Position) -> KnownPeer:
        peer = self.ensure(peer_id)
        peer.position = position
        peer.last_updated = time.monotonic()
        return peer

    def update_encoded_position(self, peer_id: str, data: bytes, decode: PositionDecoder) -> None:
        """Record that `data` holds `peer_id`'s newest position; `decode` reads it when the position is read."""
        peer = self.ensure(peer_id)
        peer._encoded_position = (data, decode)
        peer.last_updated = time.monotonic()

    def stale(self, max_age: float) -> list[str]:
        """Peers whose last news is older than `max_age` s (peers never heard from never expire)."""
        cutoff = time.monotonic() - max_age
        return [p.id for p in self._peers.values() if p.last_updated is not None and p.last_updated < cutoff]

    def average_latency(self) -> float | None:
        latencies = [p.latency for p in self._peers.values() if p.latency is not None]
        return sum(latencies) / len(latencies) if latencies else None
