"""One peer of the simulated layer: the real `Mesh` and connection policy, driven in virtual time.

What a `Peer` does over aiortc and the lighthouse is done here with events: join the layer and a
room, run `next_operation` steps until the policy is satisfied (one update at a time, each connect
step waiting until its offers opened, were refused or timed out), answer offers by the original's
rules (cross offers, capacity), and run the peer's loops (network updates, pings, housekeeping).
Packets go through the same `Mesh` a real peer uses, over `VirtualConnections`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.mesh import Mesh
from peerperf.peer.network import Connect, MeshView, accept_over_max, next_operation
from peerperf.peer.network_updates import MAX_UPDATE_STEPS
from peerperf.peer.packet_counts import GlobalPacketCounts
from peerperf.peer.settings import PeerSettings
from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.positions import Position
from peerperf.sim.payloads import decoded_position
from peerperf.sizing.virtual_connections import VirtualConnection, VirtualConnections
from peerperf.sizing.virtual_time import EventQueue


class Signaling(Protocol):
    """What a peer asks of its layer: the lighthouse's relaying of signaling, and data-channel set-up."""

    queue: EventQueue

    def new_session(self) -> int:
        """A signaling session id, unique in the layer."""

    def send_frame(self, src: str, dst: str, data: bytes) -> None: ...

    def offer(self, src: VirtualPeer, dst: str, session: int) -> None: ...

    def answer(self, src: VirtualPeer, dst: str, session: int) -> None: ...

    def reject(self, src: VirtualPeer, dst: str, session: int) -> None: ...

    def closed(self, src: VirtualPeer, dst: str, session: int) -> None: ...


class VirtualPeer:
    """A simulated peer of one layer."""

    def __init__(
        self,
        peer_id: str,
        position: Position,
        room: str,
        settings: PeerSettings,
        layer: Signaling,
        rng: random.Random,
        on_message: Callable[[VirtualPeer, str, Payload, Packet], None] | None = None,
    ) -> None:
        self.id = peer_id
        self.position = position
        self.room = room
        self.settings = settings
        self._layer = layer
        self._queue = layer.queue
        self._rng = rng
        self._on_message = on_message
        self.known = KnownPeers()
        self.stats = GlobalPacketCounts(clock=lambda: self._queue.now)
        self.connections = VirtualConnections(peer_id, layer.send_frame)
        self.rooms: set[str] = set()
        self.room_mates: set[str] = set()
        self.joined = False
        self._updating = False
        #: Offers this peer made and is waiting on: connection -> what to call when it settles.
        self._waiting: dict[int, Callable[[], None]] = {}
        self.mesh = Mesh(
            peer_id,
            self.connections,
            self.known,
            self.stats,
            settings,
            lambda: self.rooms,
            self._delivered,
            clock=self._queue.mesh_clock(),
        )

    def join(self, members: dict[str, Position | None], room_members: set[str]) -> None:
        """Joined the layer (its members then, with the positions the lighthouse knows) and a room."""
        for peer_id, position in members.items():
            known = self.known.ensure(peer_id)
            if position is not None and known.position is None:
                known.position = position
        self.joined = True
        self.rooms = {self.room}
        self.room_mates = set(room_members)
        self.spawn_update()

    def member_joined(self, peer_id: str, room: str) -> None:
        """PEER_JOINED_LAYER (and _ROOM when it shares ours)."""
        self.known.ensure(peer_id)
        if room == self.room:
            self.room_mates.add(peer_id)
        self.spawn_update()

    def hints(self, positions: dict[str, Position]) -> None:
        """An OPTIMAL_NETWORK_RESPONSE: positions of nearby members, then an update."""
        for peer_id, position in positions.items():
            if peer_id != self.id:
                self.known.update_position(peer_id, position)
        self.spawn_update()

    def spawn_update(self, delay: float = 0.0) -> None:
        """`update_network()` as a background task: it does nothing while an update runs."""
        self._queue.after(delay, self.update_network)

    def update_network(self) -> None:
        if self._updating or not self.joined:
            return
        self._updating = True
        cutoff = self._queue.now - self.settings.old_connections_timeout
        for connection in self.connections.all():
            if not connection.opened and connection.created < cutoff:
                self._close(connection)
        self._step(set(), MAX_UPDATE_STEPS)

    def _step(self, tried: set[str], left: int) -> None:
        operation = next_operation(self._view(tried), self.settings, self._rng) if left > 0 else None
        if operation is None:
            self._updating = False
            return
        if isinstance(operation, Connect):
            tried.update(operation.peer_ids)
            pending = set(operation.peer_ids)

            def settled(peer_id: str) -> None:
                pending.discard(peer_id)
                if not pending:
                    self._step(tried, left - 1)

            for peer_id in operation.peer_ids:
                self._connect_to(peer_id, settled)
        else:
            for peer_id in operation.peer_ids:
                connection = self.connections.get(peer_id)
                if connection is not None:
                    self._close(connection)
            self._step(tried, left - 1)

    def _view(self, tried: set[str]) -> MeshView:
        positions = {p: k.position for p in self.known.ids() if (k := self.known.get(p)) and k.position}
        candidates = [p for p in self.known.ids() if p not in self.connections and p not in tried and p != self.id]
        return MeshView(
            self.position, self.connections.connected_ids(), candidates, positions, frozenset(self.room_mates)
        )

    def _connect_to(self, peer_id: str, settled: Callable[[str], None]) -> None:
        """Offer a connection; `settled` once it opened, was closed (refused) or timed out."""
        connection = self.connections.open(peer_id, self._layer.new_session(), True, self._queue.now)
        done = False

        def finish() -> None:
            nonlocal done
            if not done:
                done = True
                self._waiting.pop(id(connection), None)
                if not connection.opened:
                    self._close(connection)
                settled(peer_id)

        self._waiting[id(connection)] = finish
        self._layer.offer(self, peer_id, connection.session)
        self._queue.after(self.settings.peer_connect_timeout, finish)

    def offered(self, src: str, session: int, position: Position) -> None:
        """An OFFER from `src`, handled as `SignalingHandlers._handle_offer` does."""
        existing = self.connections.get(src)
        if existing is not None and existing.initiator and not existing.opened and self.id < src:
            return  # cross offers: the lower id stays the initiator
        self.known.update_position(src, position)
        at_capacity = len(self.connections.connected_ids()) >= self.settings.max_connections
        if at_capacity and not accept_over_max(self._view(set()), src, self.settings):
            self._layer.reject(self, src, session)
            return
        self.known.ensure(src)
        self.connections.open(src, session, False, self._queue.now)
        self._layer.answer(self, src, session)
        if len(self.connections.connected_ids()) >= self.settings.max_connections:
            self.spawn_update(self.settings.over_connected_update_delay)

    def answered(self, src: str, session: int) -> VirtualConnection | None:
        """The ANSWER to our offer: the connection that may now open (None when it is gone)."""
        connection = self.connections.get(src)
        if connection is None or connection.session != session or not connection.initiator or connection.closed:
            return None
        return connection

    def rejected(self, src: str, session: int) -> None:
        connection = self.connections.get(src)
        if connection is not None and connection.session == session:
            self._close(connection)

    def opened(self, connection: VirtualConnection) -> bool:
        """The data channel of `connection` opened (False when it was replaced or closed meanwhile)."""
        if not self.connections.mark_open(connection):
            return False
        waiting = self._waiting.get(id(connection))
        if waiting is not None:
            waiting()
        return True

    def remote_closed(self, src: str, session: int) -> None:
        """The other end closed: our end of that session closes too."""
        connection = self.connections.get(src)
        if connection is not None and connection.session == session:
            self._close(connection)

    def _close(self, connection: VirtualConnection) -> None:
        was_open = connection.opened
        lost = self.connections.close(connection)
        waiting = self._waiting.get(id(connection))
        if waiting is not None:
            waiting()
        if was_open:
            self._layer.closed(self, connection.remote_id, connection.session)
        if lost:
            self.mesh.connection_lost(connection.remote_id)
            self.spawn_update()

    def _delivered(self, src: str, room: str, payload: Payload, packet: Packet) -> None:
        if self._on_message is not None:
            self._on_message(self, src, payload, packet)
        if packet.subtype == "position" and isinstance(payload, bytes):  # as the perf client does
            self.known.update_encoded_position(src, payload, decoded_position)
