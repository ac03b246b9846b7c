"""A simulated peer follows the peer library's own rules: the connection policy, offers at capacity, cross
offers, frames only over open channels; a simulated layer forms a mesh the way a real one does."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from peerperf.peer.settings import PeerSettings
from peerperf.protocol.positions import Position
from peerperf.sizing.virtual_layer import NetworkModel, VirtualLayer
from peerperf.sizing.virtual_peer import VirtualPeer
from peerperf.sizing.virtual_time import EventQueue


@dataclass
class Recorder:
    """A layer that records what a peer asks of it and delivers nothing."""

    queue: EventQueue = field(default_factory=EventQueue)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    frames: list[tuple[str, str]] = field(default_factory=list)
    _sessions: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def new_session(self) -> int:
        return next(self._sessions)

    def send_frame(self, src: str, dst: str, data: bytes) -> None:
        self.frames.append((src, dst))

    def offer(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.calls.append(("offer", dst, session))

    def answer(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.calls.append(("answer", dst, session))

    def reject(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.calls.append(("reject", dst, session))

    def closed(self, src: VirtualPeer, dst: str, session: int) -> None:
        self.calls.append(("closed", dst, session))


def peer(
    peer_id: str, layer: Recorder, settings: PeerSettings | None = None, at: Position = (0.0, 0.0, 0.0)
) -> VirtualPeer:
    return VirtualPeer(peer_id, at, "room", settings or PeerSettings(), layer, random.Random(1))


def connect(p: VirtualPeer, remote: str, session: int) -> None:
    p.opened(p.connections.open(remote, session, False, 0.0))


def test_below_target_it_offers_to_as_many_known_peers_as_it_lacks() -> None:
    layer = Recorder()
    p = peer("me", layer)
    p.join({f"p{i}": None for i in range(6)}, set())
    layer.queue.run_until(0.1)
    offers = [dst for kind, dst, _ in layer.calls if kind == "offer"]
    assert len(offers) == 4 and len(set(offers)) == 4  # target_connections, each once


def test_at_capacity_a_farther_offer_is_rejected_and_a_near_one_answered() -> None:
    layer = Recorder()
    p = peer("me", layer, PeerSettings(target_connections=2, max_connections=2))
    p.join({}, set())
    for session, remote in enumerate(("a", "b")):
        p.known.update_position(remote, (10.0, 0.0, 0.0))  # band 0 (<= 32)
        connect(p, remote, session)
    p.offered("far", 7, (70.0, 0.0, 0.0))  # band 2: farther than the worst connection
    p.offered("near", 8, (20.0, 0.0, 0.0))  # band 0: as near as the worst
    assert ("reject", "far", 7) in layer.calls and ("answer", "near", 8) in layer.calls
    assert "far" not in p.connections and "near" in p.connections


def test_cross_offers_leave_the_lower_id_the_initiator() -> None:
    layer = Recorder()
    low, high = peer("a", layer), peer("c", layer)
    for p in (low, high):
        p.join({"b": None}, set())
    layer.queue.run_until(0.1)  # each offered to b
    low.offered("b", 50, (0.0, 0.0, 0.0))
    high.offered("b", 51, (0.0, 0.0, 0.0))
    assert ("answer", "b", 50) not in layer.calls  # a < b: a's own offer stands
    assert ("answer", "b", 51) in layer.calls  # c > b: b's offer replaces c's
    connection = high.connections.get("b")
    assert connection is not None and not connection.initiator and connection.session == 51


def test_frames_go_only_over_open_connections() -> None:
    layer = Recorder()
    p = peer("me", layer)
    p.connections.open("opening", 1, True, 0.0)
    connect(p, "open", 2)
    for remote in ("opening", "open", "unknown"):
        p.connections.send(remote, b"x")
    assert layer.frames == [("me", "open")]
    assert p.connections.connected_ids() == ("open",)


def test_a_closed_connection_is_lost_to_the_mesh_and_the_other_end_is_told() -> None:
    layer = Recorder()
    p = peer("me", layer)
    connect(p, "gone", 3)
    p.remote_closed("gone", 99)  # another session: not ours
    assert p.connections.connected_ids() == ("gone",)
    p.remote_closed("gone", 3)
    assert p.connections.connected_ids() == () and ("closed", "gone", 3) in layer.calls


def test_a_layer_forms_a_symmetric_mesh_within_the_policys_bounds() -> None:
    rng = random.Random(3)
    settings = PeerSettings()
    layer = VirtualLayer(settings, NetworkModel(), rng, max_receives=10**6)
    peers = [
        VirtualPeer(f"p{i:02d}", (rng.uniform(-32, 32), 0.0, rng.uniform(-32, 32)), "room", settings, layer, rng)
        for i in range(12)
    ]
    for p in peers:
        layer.add(p)
        layer.queue.at(rng.uniform(0, 0.5), layer.join, p)
        layer.queue.at(0.0, layer.start_loops, p)
    layer.queue.run_until(12.0)
    for p in peers:
        connected = p.connections.connected_ids()
        assert settings.target_connections <= len(connected) <= settings.max_connections, (p.id, connected)
        for other in connected:
            assert p.id in layer.peers[other].connections.connected_ids()  # both ends agree
