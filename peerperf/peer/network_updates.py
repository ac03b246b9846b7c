"""Running the connection policy (`peerperf.peer.network`) on a live peer: steps until the mesh is as it
should be, one update at a time, each step seeing the peer's known peers, connections and rooms as they are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from peerperf.peer.connections import Connections
from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.membership import Membership
from peerperf.peer.network import Connect, MeshView, next_operation
from peerperf.peer.settings import PeerSettings
from peerperf.protocol.positions import Position

#: Most network-policy steps one update runs (each step consumes candidates, so this is a backstop).
MAX_UPDATE_STEPS = 50


class NetworkUpdates:
    """One peer's network updates; a second update asked while one runs is dropped (the running one sees
    the same state)."""

    def __init__(
        self,
        settings: PeerSettings,
        known: KnownPeers,
        connections: Connections,
        membership: Membership,
        connect: Callable[[str], Awaitable[Any]],
        position: Callable[[], Position],
        own_id: Callable[[], str],
    ) -> None:
        self._settings, self._known, self._connections, self._membership = settings, known, connections, membership
        self._connect, self._position, self._own_id = connect, position, own_id
        self._updating = False

    async def run(self) -> None:
        """Close connections that never opened, then run policy steps until none is left."""
        if self._updating:
            return
        self._updating = True
        try:
            self._connections.close_unconnected(self._settings.old_connections_timeout)
            tried: set[str] = set()
            for _ in range(MAX_UPDATE_STEPS):
                operation = next_operation(self.view(tried), self._settings)
                if operation is None:
                    break
                if isinstance(operation, Connect):
                    tried.update(operation.peer_ids)
                    await asyncio.gather(*(self._connect(p) for p in operation.peer_ids))
                else:
                    for peer_id in operation.peer_ids:
                        await self._connections.close(peer_id)
        finally:
            self._updating = False

    def view(self, tried: set[str]) -> MeshView:
        """The peer's surroundings as the policy sees them; `tried` are left out of the candidates."""
        known, connections = self._known, self._connections
        positions = {p: k.position for p in known.ids() if (k := known.get(p)) and k.position}
        candidates = [p for p in known.ids() if p not in connections and p not in tried and p != self._own_id()]
        return MeshView(
            self._position(), connections.connected_ids(), candidates, positions, self._membership.room_mates()
        )
