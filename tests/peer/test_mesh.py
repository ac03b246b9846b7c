"""Relay rules without a network: in-memory links between meshes (reference 2.5-2.8)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import pytest

from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.mesh import Mesh
from peerperf.peer.mesh_interfaces import SYSTEM_CLOCK, MeshClock
from peerperf.peer.packet_counts import GlobalPacketCounts
from peerperf.peer.settings import PeerSettings
from peerperf.protocol.histogram import bucket_value
from peerperf.protocol.messagetypes import SUSPEND_RELAY, reliable, unreliable
from peerperf.protocol.packets import Packet, build_packet


@dataclass
class Node:
    """A mesh plus what it delivered, wired to other nodes through in-memory links."""

    id: str
    network: Network
    rooms: set[str] = field(default_factory=lambda: {"room"})
    delivered: list[tuple[str, str, object]] = field(default_factory=list)
    neighbours: list[str] = field(default_factory=list)
    sent_frames: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stats = GlobalPacketCounts()
        self.known = KnownPeers()
        self.mesh = Mesh(
            self.id,
            self,
            self.known,
            self.stats,
            self.network.settings,
            lambda: self.rooms,
            lambda src, room, payload, packet: self.delivered.append((src, room, payload)),
            clock=self.network.clock,
        )

    def connected_ids(self) -> list[str]:
        return list(self.neighbours)

    def send(self, peer_id: str, data: bytes) -> None:
        self.sent_frames.append((peer_id, data))
        self.network.queue.append((self.id, peer_id, data))

    def count(self, category: str) -> int:
        return self.stats.categories[category].total_packets if category in self.stats.categories else 0


@dataclass
class Network:
    settings: PeerSettings = field(default_factory=PeerSettings)
    clock: MeshClock = SYSTEM_CLOCK
    nodes: dict[str, Node] = field(default_factory=dict)
    queue: list[tuple[str, str, bytes]] = field(default_factory=list)

    def add(self, *ids: str) -> None:
        for node_id in ids:
            self.nodes[node_id] = Node(node_id, self)

    def link(self, a: str, b: str) -> None:
        self.nodes[a].neighbours.append(b)
        self.nodes[b].neighbours.append(a)

    def run(self) -> None:
        """Deliver queued frames until the network is quiet (FIFO, deterministic)."""
        while self.queue:
            src, dst, data = self.queue.pop(0)
            self.nodes[dst].mesh.receive(src, data)


def triangle() -> Network:
    """a, b and c, each linked to the other two."""
    net = Network()
    net.add("a", "b", "c")
    for a, b in (("a", "b"), ("b", "c"), ("a", "c")):
        net.link(a, b)
    return net


def line(*ids: str, settings: PeerSettings | None = None) -> Network:
    net = Network(settings or PeerSettings())
    net.add(*ids)
    for a, b in itertools.pairwise(ids):
        net.link(a, b)
    return net


def test_reliable_packets_flood_once_and_duplicates_are_counted() -> None:
    net = triangle()
    net.nodes["a"].mesh.send_message("room", b"hi", reliable("chat"))
    net.run()
    for node_id in "bc":
        assert net.nodes[node_id].delivered == [("a", "room", b"hi")]
    # b and c each get a's copy and the other's relay: one duplicate each, counted as received too.
    assert [net.nodes[n].count("duplicate") for n in "bc"] == [1, 1]
    assert [net.nodes[n].count("received") for n in "bc"] == [2, 2]
    assert net.nodes["a"].count("sent") == 2 and net.nodes["a"].count("received") == 0


def test_optimistic_packets_skip_peers_already_in_received_by() -> None:
    net = triangle()
    net.nodes["a"].mesh.send_message("room", b"pos", unreliable("position"))
    net.run()
    assert [net.nodes[n].count("received") for n in "bc"] == [1, 1]  # receivedBy already had everyone
    assert [net.nodes[n].count("relayed") for n in "bc"] == [0, 0]
    first = Packet.FromString(net.nodes["a"].sent_frames[0][1])
    assert list(first.receivedBy) == ["a", "b", "c"]


def test_ttl_bounds_hops_and_relays_count_as_relayed() -> None:
    net = line("n0", "n1", "n2", "n3", "n4")
    chat = reliable("chat")
    net.nodes["n0"].mesh.send_message("room", b"x", type(chat)(chat.name, ttl=3, expiration_time=20000))
    net.run()
    assert [len(net.nodes[f"n{i}"].delivered) for i in range(5)] == [0, 1, 1, 1, 0]
    assert net.nodes["n1"].count("relayed") == 1 and net.nodes["n2"].count("relayed") == 1
    assert net.nodes["n3"].count("relayed") == 0  # hops reached ttl there
    assert net.nodes["n0"].count("sent") == 1


def test_deliveries_are_measured_once_per_packet_with_their_hops_subtype_and_latency() -> None:
    net = triangle()  # c hears a's packets directly and again through b: the copy is no second delivery
    net.nodes["a"].mesh.send_message("room", b"hi", reliable("chat"))
    net.nodes["a"].mesh.send_message("room", b"at", reliable("position"))
    net.nodes["a"].mesh.send_message("room", b"??", reliable("custom"))
    net.run()
    taken = net.nodes["c"].mesh.measures.take(time.monotonic())
    assert taken["deliveredBySubtype"] == {"chat": 1, "position": 1, "custom": 1}
    assert taken["uniqueReceived"] == 3 and taken["arrivedExpired"] == 0
    assert taken["hops"] == [1, 3]  # linear buckets: three deliveries after one hop
    for field_name in ("latencyChatMs", "latencyPositionMs", "latencyOtherMs"):
        assert sum(taken[field_name][1::2]) == 1, field_name
    assert taken["latencyProfileMs"] == []


def test_packets_for_unjoined_rooms_are_relayed_not_delivered() -> None:
    net = line("a", "x", "c")
    net.nodes["x"].rooms = {"elsewhere"}
    net.nodes["a"].mesh.send_message("room", b"hi", reliable("chat"))
    net.run()
    assert net.nodes["x"].delivered == [] and net.nodes["x"].count("relayed") == 1
    assert net.nodes["c"].delivered == [("a", "room", b"hi")]
    assert net.nodes["x"].count("relevant") == 0 and net.nodes["c"].count("relevant") == 1


def inject(node: Node, packet: Packet, via: str = "w") -> None:
    node.mesh.receive(via, packet.SerializeToString())


def packet(src: str, seq: int, timestamp: int, kind: str = "position") -> Packet:
    message_type = unreliable(kind) if kind == "position" else reliable(kind)
    p = build_packet(message_type, src=src, sequence_id=seq, instance_id=1, timestamp_ms=timestamp)
    p.messageData.room = "room"
    p.messageData.payload = b"p"
    return p


def test_older_unreliable_packets_are_expired_and_not_delivered() -> None:
    net = Network()
    net.add("me")
    node = net.nodes["me"]
    inject(node, packet("s", 2, 10_000))
    inject(node, packet("s", 1, 9_000))  # older than the newest position: discardOlderThan 0
    assert [d[2] for d in node.delivered] == [b"p"] and node.count("expired") == 1


def test_second_copy_of_the_newest_unreliable_packet_is_processed_again_as_the_original() -> None:
    net = Network()
    net.add("me")
    node = net.nodes["me"]
    inject(node, packet("s", 2, 10_000))
    inject(node, packet("s", 2, 10_000))
    assert len(node.delivered) == 2 and node.count("duplicate") == 0  # reference 2.6, kept on purpose


def test_expire_time_is_measured_against_the_newest_news_from_the_source() -> None:
    net = Network()
    net.add("me")
    node = net.nodes["me"]
    inject(node, packet("s", 5, 100_000, kind="chat"))
    inject(node, packet("s", 1, 100_000 - 20_001, kind="chat"))  # reliable: 20 s to live
    inject(node, packet("s", 2, 100_000 - 19_000, kind="chat"))
    assert len(node.delivered) == 2 and node.count("expired") == 1


def test_undecodable_frames_are_counted_and_dropped() -> None:
    net = Network()
    net.add("me")
    node = net.nodes["me"]
    for junk in (b"\xff\xff", b"", b"\x0a\x03abc"):
        node.mesh.receive("w", junk)
    assert node.mesh.bad_frames == 3 and node.count("received") == 0


class FakeClock:
    """Time that moves only when told: monotonic seconds and wall-clock ms, for a mesh's `MeshClock`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def wall_ms(self) -> float:
        return 1.7e12 + self.now * 1000

    def mesh_clock(self) -> MeshClock:
        return MeshClock(self.monotonic, self.wall_ms)


def test_housekeeping_forgets_expired_packet_ids() -> None:
    clock = FakeClock()
    net = Network(PeerSettings(message_expiration_time=10), clock.mesh_clock())
    net.add("me")
    node = net.nodes["me"]
    text = build_packet(reliable("t"), src="s", sequence_id=1, instance_id=1, timestamp_ms=1, expire_time=-1)
    text.messageData.room = "room"
    inject(node, text)
    clock.now += 9.9
    node.mesh.housekeeping()
    inject(node, text)
    assert node.count("duplicate") == 1  # still remembered within messageExpirationTime
    clock.now += 10.1
    node.mesh.housekeeping()
    inject(node, text)
    assert node.count("duplicate") == 1 and len(node.delivered) == 2  # forgotten, so delivered again


def test_packets_are_stamped_and_timed_on_the_mesh_clock() -> None:
    clock = FakeClock()
    net = Network(clock=clock.mesh_clock())
    net.add("a", "b")
    net.link("a", "b")
    sent = net.nodes["a"].mesh.send_message("room", b"x", reliable("chat"))
    assert sent.timestamp == int(clock.wall_ms())  # virtual wall-clock ms, whole on the wire
    clock.now += 0.25  # the packet spends 250 virtual ms in flight
    net.run()
    latency = net.nodes["b"].mesh.measures.take(clock.now)["latencyChatMs"]
    assert latency[1::2] == [1] and bucket_value(latency[0]) == pytest.approx(250, rel=0.045)  # virtual, not real


def test_a_relay_suspension_lasts_its_duration_on_the_mesh_clock() -> None:
    clock = FakeClock()
    net = Network(clock=clock.mesh_clock())
    net.add("me", "r")
    net.link("me", "r")
    request = build_packet(SUSPEND_RELAY, src="r", sequence_id=1, instance_id=1, timestamp_ms=1)
    request.suspendRelayData.relayedPeers.append("s")
    request.suspendRelayData.durationMillis = 5000
    inject(net.nodes["me"], request, via="r")
    assert net.nodes["me"].mesh.relay_suspended("r", "s")
    clock.now += 4.9
    assert net.nodes["me"].mesh.relay_suspended("r", "s")
    clock.now += 0.2
    assert not net.nodes["me"].mesh.relay_suspended("r", "s")


def test_ping_pong_measures_latency_to_responders() -> None:
    net = line("a", "b", "c")
    round_ = net.nodes["a"].mesh.send_ping()
    net.run()
    assert set(net.nodes["a"].mesh.end_ping(round_)) == {"b", "c"}
    assert net.nodes["a"].known.average_latency() is not None


def test_relay_suspension_is_requested_and_honoured() -> None:
    settings = PeerSettings(relay_suspension_interval=0.0, relay_suspension_duration=60)
    net = Network(settings)
    net.add("s", "r1", "r2", "me")
    for a, b in (("s", "r1"), ("s", "r2"), ("r1", "me"), ("r2", "me")):
        net.link(a, b)
    for _ in range(3):  # duplicates from s through r2 make `me` ask r2 to stop relaying s
        net.nodes["s"].mesh.send_message("room", b"c", reliable("chat"))
        net.run()
    asked = [Packet.FromString(d) for dst, d in net.nodes["me"].sent_frames if dst in ("r1", "r2")]
    suspend = [p for p in asked if p.WhichOneof("data") == "suspendRelayData"]
    assert suspend and list(suspend[-1].suspendRelayData.relayedPeers) == ["s"]
    via = [
        dst for dst, d in net.nodes["me"].sent_frames if Packet.FromString(d).WhichOneof("data") == "suspendRelayData"
    ][-1]
    assert net.nodes[via].mesh.relay_suspended("me", "s")
    before = net.nodes["me"].count("duplicate")
    net.nodes["s"].mesh.send_message("room", b"c", reliable("chat"))
    net.run()
    assert net.nodes["me"].count("duplicate") == before  # the suspended path no longer relays s
    assert len(net.nodes["me"].delivered) == 4
