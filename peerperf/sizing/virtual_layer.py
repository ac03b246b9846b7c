"""A whole simulated layer: its peers, the lighthouse's part (membership, relaying signaling, hints)
and the in-memory network between them, all on one `EventQueue`.

Delays are the only model here: a frame between two peers takes `hop_delay` plus up to `hop_jitter`
(seeded), a signaling message `signaling_delay`, a data channel `connect_delay` from the answer to open.
Everything a peer decides is the peer library's own code (`VirtualPeer`).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from peerperf.peer.settings import PeerSettings
from peerperf.protocol.positions import Position, distance
from peerperf.sizing.virtual_peer import VirtualPeer
from peerperf.sizing.virtual_time import EventQueue


@dataclass(frozen=True)
class NetworkModel:
    """The delays of the simulated network (virtual seconds)."""

    #: One data-channel frame from a peer to a neighbour.
    hop_delay: float = 0.001
    #: Added to each frame's delay, uniform in [0, hop_jitter), so copies on different paths interleave.
    hop_jitter: float = 0.001
    #: One signaling message through the lighthouse (offer, answer, reject, notification).
    signaling_delay: float = 0.005
    #: From an answer's arrival to the data channel open at both ends (ICE, DTLS, SCTP).
    connect_delay: float = 0.05


class BudgetExceeded(Exception):
    """The simulation handed more frames to meshes than it was allowed to."""


class VirtualLayer:
    """Peers of one layer and everything between them."""

    def __init__(self, settings: PeerSettings, network: NetworkModel, rng: random.Random, max_receives: int) -> None:
        self.queue = EventQueue()
        self.settings = settings
        self.network = network
        self._rng = rng
        self.peers: dict[str, VirtualPeer] = {}
        self._sessions = itertools.count(1)
        #: Lighthouse side: members in join order, and who has sent a heartbeat (so their position is known).
        self._members: list[str] = []
        self._heartbeat_sent: set[str] = set()
        #: Frames handed to a mesh so far, and the most allowed.
        self.receives = 0
        self._max_receives = max_receives

    def add(self, peer: VirtualPeer) -> None:
        self.peers[peer.id] = peer

    def new_session(self) -> int:
        return next(self._sessions)

    def send_frame(self, src: str, dst: str, data: bytes) -> None:
        delay = self.network.hop_delay + self.network.hop_jitter * self._rng.random()
        self.queue.after(delay, self._arrive, src, dst, data)

    def _arrive(self, src: str, dst: str, data: bytes) -> None:
        peer = self.peers[dst]
        connection = peer.connections.get(src)
        if connection is None or not connection.opened or connection.closed:
            return  # the channel closed while the frame was under way
        self.receives += 1
        if self.receives > self._max_receives:
            raise BudgetExceeded(f"more than {self._max_receives:,} frames received")
        peer.mesh.receive(src, data)

    def drop_frames(self) -> int:
        """Lose every frame under way (after a flood was cut at the budget)."""
        return self.queue.drop(self._arrive)

    def offer(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.queue.after(self.network.signaling_delay, self.peers[dst].offered, src.id, session, src.position)

    def answer(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.queue.after(self.network.signaling_delay, self._answered, src, dst, session)

    def _answered(self, answerer: VirtualPeer, offerer_id: str, session: int) -> None:
        ours = self.peers[offerer_id].answered(answerer.id, session)
        if ours is not None:
            self.queue.after(self.network.connect_delay, self._open, answerer, offerer_id, session)

    def _open(self, answerer: VirtualPeer, offerer_id: str, session: int) -> None:
        offerer = self.peers[offerer_id]
        theirs, ours = answerer.connections.get(offerer_id), offerer.connections.get(answerer.id)
        if theirs is None or ours is None or theirs.session != session or ours.session != session:
            return  # one end was replaced or closed meanwhile: this one never opens (its timeout closes it)
        if answerer.opened(theirs):
            offerer.opened(ours)

    def reject(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.queue.after(self.network.signaling_delay, self.peers[dst].rejected, src.id, session)

    def closed(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.queue.after(self.network.hop_delay, self.peers[dst].remote_closed, src.id, session)

    def join(self, peer: VirtualPeer) -> None:
        """`peer` joins the layer and its room: it learns the members, they are notified of it."""
        members = {m: self._lighthouse_position(m) for m in self._members}
        room_members = {m for m in self._members if self.peers[m].room == peer.room}
        self._members.append(peer.id)
        peer.join(members, room_members)
        for member in members:
            self.queue.after(self.network.signaling_delay, self.peers[member].member_joined, peer.id, peer.room)
        self.queue.after(self.settings.heartbeat_interval, self._heartbeat_sent.add, peer.id)
        self.queue.every(self.settings.optimize_network_interval, lambda: self._hint(peer))

    def _lighthouse_position(self, peer_id: str) -> Position | None:
        return self.peers[peer_id].position if peer_id in self._heartbeat_sent else None

    def _hint(self, peer: VirtualPeer) -> None:
        """The lighthouse's answer to a heartbeat asking for hints: members near enough, with positions."""
        if peer.id not in self._heartbeat_sent:
            return
        limit = self.settings.nearby_peers_distance
        near = {
            m: self.peers[m].position
            for m in self._members
            if m != peer.id and m in self._heartbeat_sent and distance(peer.position, self.peers[m].position) <= limit
        }
        self.queue.after(self.network.signaling_delay, peer.hints, near)

    def start_loops(self, peer: VirtualPeer) -> None:
        """The peer's own loops, from its connect: network updates, pings, housekeeping."""
        settings = self.settings
        if settings.network_update_interval > 0:
            self.queue.every(settings.network_update_interval, peer.update_network)
        self.queue.every(settings.expiration_loop_interval, peer.mesh.housekeeping)
        if settings.ping_interval is not None:
            self.queue.after(settings.ping_interval, self._ping_round, peer)

    def _ping_round(self, peer: VirtualPeer) -> None:
        round_ = peer.mesh.send_ping()
        timeout = self.settings.ping_timeout

        def end() -> None:
            peer.mesh.end_ping(round_)
            assert self.settings.ping_interval is not None
            self.queue.after(self.settings.ping_interval, self._ping_round, peer)

        self.queue.after(timeout, end)
