"""One simulated peer's connections: the `Links` its real `Mesh` sends on, over in-memory frames.

A connection is opening until the layer opens both ends, then open until either end closes it;
frames go only over open connections, as data channels carry nothing before they open or after
they close.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Hands a frame to the layer: (from peer, to peer, bytes).
SendFrame = Callable[[str, str, bytes], None]


@dataclass
class VirtualConnection:
    """One end of a connection, for one signaling session."""

    remote_id: str
    session: int
    initiator: bool
    #: Virtual time it was created (s).
    created: float
    opened: bool = False
    closed: bool = False


class VirtualConnections:
    """Open and opening connections by remote peer id (the `Links` of one mesh)."""

    def __init__(self, owner_id: str, send_frame: SendFrame) -> None:
        self._owner = owner_id
        self._send_frame = send_frame
        self._by_peer: dict[str, VirtualConnection] = {}
        self._connected: tuple[str, ...] | None = None

    def connected_ids(self) -> tuple[str, ...]:
        if self._connected is None:
            self._connected = tuple(p for p, c in self._by_peer.items() if c.opened and not c.closed)
        return self._connected

    def send(self, peer_id: str, data: bytes) -> None:
        connection = self._by_peer.get(peer_id)
        if connection is not None and connection.opened and not connection.closed:
            self._send_frame(self._owner, peer_id, data)

    def get(self, peer_id: str) -> VirtualConnection | None:
        return self._by_peer.get(peer_id)

    def __contains__(self, peer_id: str) -> bool:
        return peer_id in self._by_peer

    def all(self) -> list[VirtualConnection]:
        return list(self._by_peer.values())

    def open(self, peer_id: str, session: int, initiator: bool, now: float) -> VirtualConnection:
        """A new connection for one session; one already there is replaced (closed without a loss)."""
        old = self._by_peer.get(peer_id)
        if old is not None:
            old.closed = True
        connection = self._by_peer[peer_id] = VirtualConnection(peer_id, session, initiator, now)
        self._connected = None
        return connection

    def mark_open(self, connection: VirtualConnection) -> bool:
        """Open `connection` if it is still the current one; whether it opened."""
        if connection.closed or self._by_peer.get(connection.remote_id) is not connection:
            return False
        connection.opened = True
        self._connected = None
        return True

    def close(self, connection: VirtualConnection) -> bool:
        """Close `connection`; True when it was the current one (the peer lost that link)."""
        if connection.closed:
            return False
        connection.closed = True
        current = self._by_peer.get(connection.remote_id) is connection
        if current:
            del self._by_peer[connection.remote_id]
            self._connected = None
        return current
