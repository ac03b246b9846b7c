"""A peer's data connections, one `PeerConnection` per remote peer: the `Links` its mesh sends on.

The mesh asks who is connected for every packet it sends or relays, so the connected ids are kept
as a tuple, rebuilt only when a channel opens or a connection starts closing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from peerperf.peer.delivery_metrics import DeliveryMetrics
from peerperf.peer.ice import ConnectionConfiguration
from peerperf.peer.impairment import Impairment
from peerperf.peer.webrtc_connection import PeerConnection
from peerperf.protocol.metrics import SILENT_LINK_S

log = logging.getLogger(__name__)


class Connections:
    """Open and opening connections by remote peer id."""

    def __init__(
        self,
        configuration: ConnectionConfiguration,
        measures: DeliveryMetrics,
        on_data: Callable[[str, bytes], None],
        on_lost: Callable[[str], None],
        spawn: Callable[[Awaitable[Any]], None],
        impairment: Impairment | None = None,
    ) -> None:
        self._configuration = configuration
        self._measures = measures
        self._on_data = on_data
        #: Called with the remote id when the current connection to it has closed.
        self._on_lost = on_lost
        self._spawn = spawn
        #: This peer's impaired network (None: a perfect one); connections are attached as they gather.
        self.impairment = impairment
        self._by_peer: dict[str, PeerConnection] = {}
        self._connected: tuple[str, ...] | None = None
        self._disposed = False

    def connected_ids(self) -> tuple[str, ...]:
        """The peers with an open data channel."""
        if self._connected is None:
            self._connected = tuple(peer_id for peer_id, conn in self._by_peer.items() if conn.connected)
        return self._connected

    def silent_links(self, now: float) -> list[str]:
        """The remote ids of open links on which no frame arrived for `SILENT_LINK_S` (call once a window:
        a link counts as quiet from the first call that saw its frame count unchanged)."""
        silent = []
        for conn in self._by_peer.values():
            if not conn.connected or conn.opened_at is None:
                continue
            if conn.quiet_since is None or conn.frames != conn.frames_checked:
                conn.frames_checked, conn.quiet_since = conn.frames, now if conn.frames else conn.opened_at
            elif now - conn.quiet_since >= SILENT_LINK_S:
                silent.append(conn.remote_id)
        if silent:
            log.warning("links open but silent for %.0f s or more, from: %s", SILENT_LINK_S, ", ".join(silent))
        return silent

    def send(self, peer_id: str, data: bytes) -> None:
        connection = self._by_peer.get(peer_id)
        if connection is not None:
            connection.send(data)

    def get(self, peer_id: str) -> PeerConnection | None:
        return self._by_peer.get(peer_id)

    def __contains__(self, peer_id: str) -> bool:
        return peer_id in self._by_peer

    def __iter__(self) -> Iterator[PeerConnection]:
        return iter(list(self._by_peer.values()))

    def __len__(self) -> int:
        return len(self._by_peer)

    def open(self, peer_id: str, session_id: str, initiator: bool) -> PeerConnection:
        """A new connection to `peer_id` for one signaling session; one already there is closed."""
        old = self._by_peer.get(peer_id)
        if old is not None:
            self._spawn(old.close())
        connection = PeerConnection(
            peer_id,
            session_id,
            initiator,
            self._configuration,
            self._on_data,
            self._closed,
            self._opened,
            self._changed,
            self._spawn,
        )
        self._by_peer[peer_id] = connection
        self._changed()
        return connection

    def impair(self, connection: PeerConnection) -> None:
        """Put the connection's sockets behind this peer's impairment: its candidates are gathered and no
        ICE check has gone out yet (aiortc starts them in a task after `setLocalDescription`)."""
        if self.impairment is not None:
            self.impairment.attach(connection.pc)

    async def close(self, peer_id: str) -> None:
        connection = self._by_peer.get(peer_id)
        if connection is not None:
            await connection.close()

    async def close_all(self) -> None:
        for connection in list(self._by_peer.values()):
            await connection.close()

    async def dispose(self) -> None:
        """Close every connection for good: closing now is no failure and nobody is told of losses."""
        self._disposed = True
        await self.close_all()

    def close_unconnected(self, older_than: float) -> None:
        """Close (in the background) connections created more than `older_than` s ago that never opened."""
        cutoff = time.monotonic() - older_than
        for connection in list(self._by_peer.values()):
            if not connection.connected and connection.created < cutoff:
                self._spawn(connection.close())

    def _changed(self, _connection: PeerConnection | None = None) -> None:
        self._connected = None

    def _opened(self, connection: PeerConnection) -> None:
        assert connection.opened_at is not None
        self._changed()
        self._measures.connect_setup.record((connection.opened_at - connection.created) * 1000)

    def _closed(self, connection: PeerConnection) -> None:
        if connection.opened_at is None and not connection.rejected and not self._disposed:
            self._measures.connection_failures += 1
        if self._by_peer.get(connection.remote_id) is connection:
            del self._by_peer[connection.remote_id]
            self._changed()
            if not self._disposed:
                self._on_lost(connection.remote_id)
