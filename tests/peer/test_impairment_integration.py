"""Impairment on the real stack: peers over aiortc on loopback, impaired beneath DTLS and SCTP."""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from peerperf.peer import Peer
from peerperf.peer.impairment_profile import PeerImpairment, parse_profile
from peerperf.protocol.messagetypes import MessageType, reliable
from peerperf.protocol.packets import Packet, Payload
from tests.lighthouse.conftest import LighthouseUnderTest, StartLighthouse
from tests.peer.conftest import FAST, eventually

CHAT = reliable("chat")
#: Room for connections whose every round trip is impaired.
SLOW_CONNECT = replace(FAST, peer_connect_timeout=6.0)


class Latencies:
    """App-message latency as the receiver sees it: arrival time minus the packet's sender timestamp."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.payloads: list[bytes] = []

    def __call__(self, src: str, room: str, payload: Payload, packet: Packet) -> None:
        self.ms.append(time.time() * 1000 - packet.timestamp)
        if isinstance(payload, bytes):
            self.payloads.append(payload)

    def quantile(self, q: float) -> float:
        return statistics.quantiles(self.ms, n=100, method="inclusive")[round(q * 100) - 1]


def impaired(text: str, seed: str = "test") -> PeerImpairment:
    return PeerImpairment(parse_profile(text), seed)


@pytest.fixture
async def peers() -> AsyncIterator[list[Peer]]:
    """Peers a test made; disposed at teardown."""
    made: list[Peer] = []
    yield made
    for peer in made:
        await peer.dispose()


async def join(peers: list[Peer], lighthouse: LighthouseUnderTest, peer_id: str, layer: str, **kwargs: Any) -> Peer:
    peer = Peer(lighthouse.base, peer_id, settings=FAST, **kwargs)
    peers.append(peer)
    await peer.connect()
    await peer.set_layer(layer)
    await peer.join_room("room")
    return peer


async def pair(
    peers: list[Peer], lighthouse: LighthouseUnderTest, layer: str, profile: str | None
) -> tuple[Peer, Peer, Latencies]:
    """Two peers alone in `layer`, both with `profile`; the second one's received latencies are recorded."""
    latencies = Latencies()
    setup = impaired(profile) if profile else None
    a = await join(peers, lighthouse, f"{layer}-a", layer, impairment=setup)
    b = await join(peers, lighthouse, f"{layer}-b", layer, impairment=setup, on_message=latencies)
    await eventually(lambda: a.connected_ids() == [b.id] and b.connected_ids() == [a.id], f"{layer} pair connects")
    return a, b, latencies


async def send_paced(peer: Peer, count: int, interval: float, message_type: MessageType = CHAT, size: int = 40) -> None:
    for i in range(count):
        peer.send_message("room", i.to_bytes(4, "big") + bytes(size - 4), message_type)
        await asyncio.sleep(interval)


def connected_to(peer: Peer, other: Peer) -> Callable[[], bool]:
    return lambda: peer.connected_ids() == [other.id]


def has_key(mapping: dict[str, float], key: str) -> Callable[[], bool]:
    return lambda: key in mapping


def all_connected(group: tuple[Peer, ...], connections: int) -> Callable[[], bool]:
    return lambda: all(len(p.connected_ids()) == connections for p in group)


async def ping_rtts(peer: Peer, other: str, rounds: int) -> list[float]:
    assert peer.mesh is not None
    rtts = []
    for _ in range(rounds):
        round_ = peer.mesh.send_ping()
        await eventually(has_key(round_.latencies, other), "a pong comes back", timeout=10)
        rtts.append(peer.mesh.end_ping(round_)[other])
    return rtts


async def test_delay_adds_its_one_way_time_to_messages_and_twice_to_pings(
    start_lighthouse: StartLighthouse, peers: list[Peer]
) -> None:
    lighthouse = await start_lighthouse()
    clean_a, clean_b, clean = await pair(peers, lighthouse, "clean", None)
    slow_a, slow_b, slow = await pair(peers, lighthouse, "slow", "delay=50ms")
    await asyncio.gather(send_paced(clean_a, 60, 0.02), send_paced(slow_a, 60, 0.02))
    await eventually(lambda: len(clean.ms) == 60 and len(slow.ms) == 60, "every message arrives")
    added = statistics.median(slow.ms) - statistics.median(clean.ms)
    assert 50 - 8 <= added <= 50 + 8, f"one-way delay added {added:.1f} ms"
    assert min(slow.ms) >= 49, "no message beats the delay"

    clean_rtt, slow_rtt = await asyncio.gather(ping_rtts(clean_a, clean_b.id, 8), ping_rtts(slow_a, slow_b.id, 8))
    added_rtt = statistics.median(slow_rtt) - statistics.median(clean_rtt)
    assert 100 - 15 <= added_rtt <= 100 + 15, f"ping round trip rose by {added_rtt:.1f} ms"
    counters = slow_a.impairment.counters if slow_a.impairment else None
    assert counters is not None and counters.sent > 60 and counters.delayed == counters.sent
    assert counters.dropped == counters.queue_dropped == counters.duplicated == 0
    assert slow_a.impairment_metrics()["impairment"] == "delay=50ms" and clean_a.impairment_metrics() == {
        "impairment": ""
    }


async def test_loss_on_the_reliable_channel_delivers_everything_later(
    start_lighthouse: StartLighthouse, peers: list[Peer]
) -> None:
    lighthouse = await start_lighthouse()
    clean_a, _, clean = await pair(peers, lighthouse, "clean", None)
    lossy_a, lossy_b, lossy = await pair(peers, lighthouse, "lossy", "loss=10%")
    count = 300
    await asyncio.gather(send_paced(clean_a, count, 0.01), send_paced(lossy_a, count, 0.01))
    await eventually(lambda: len(lossy.ms) >= count and len(clean.ms) >= count, "SCTP delivers every message", 60)
    sent_order = [i.to_bytes(4, "big") for i in range(count)]
    assert [p[:4] for p in lossy.payloads] == sent_order, "all delivered once, in order"
    assert lossy.quantile(0.99) > clean.quantile(0.99) + 20, (lossy.quantile(0.99), clean.quantile(0.99))
    for peer in (lossy_a, lossy_b):
        assert peer.impairment is not None
        counters = peer.impairment.counters
        share = counters.dropped / counters.sent
        bound = 4 * math.sqrt(0.1 * 0.9 / counters.sent)  # four binomial standard deviations
        # The tuned transport sends about 0.7 datagrams per message here (SACKs ride along or wait for a second).
        assert counters.sent > count * 0.5 and abs(share - 0.1) <= bound, f"{counters}: dropped {share:.3f}"
        assert counters.delayed == 0, "loss alone holds nothing back"


async def test_a_rate_cap_below_the_load_queues_delays_and_tail_drops(
    start_lighthouse: StartLighthouse, peers: list[Peer]
) -> None:
    lighthouse = await start_lighthouse()
    clean_a, _, clean = await pair(peers, lighthouse, "clean", None)
    capped_a, _, capped = await pair(peers, lighthouse, "capped", "rate=300kbit,queue=16kb")
    # 100 messages of 1,000 B in 1 s: 800 kbit/s offered to a 300 kbit/s link.
    await asyncio.gather(send_paced(clean_a, 100, 0.01, size=1000), send_paced(capped_a, 100, 0.01, size=1000))
    await eventually(lambda: len(capped.ms) == 100 and len(clean.ms) == 100, "every message arrives", 60)
    assert statistics.median(capped.ms) > statistics.median(clean.ms) + 200, (capped.ms, clean.ms)
    assert capped_a.impairment is not None
    counters = capped_a.impairment.counters
    assert counters.delayed > 50 and counters.queue_dropped > 0, counters
    assert counters.dropped == 0


async def test_a_capped_relay_makes_expiring_packets_arrive_expired(
    start_lighthouse: StartLighthouse, peers: list[Peer]
) -> None:
    """A sends to C directly and through B; with B's uplink capped, B's copies arrive after newer direct ones."""
    lighthouse = await start_lighthouse()
    # Expiring like positions (newer ones replace older), but relayed (not optimistic) so B forwards to C.
    fresh_only = MessageType("fresh", expiration_time=2000, discard_older_than=0, optimistic=False)
    triangles = {}
    for layer, relay_profile in (("clean", None), ("capped", impaired("rate=100kbit,queue=8kb"))):
        a = await join(peers, lighthouse, f"{layer}-a", layer)
        b = await join(peers, lighthouse, f"{layer}-b", layer, impairment=relay_profile)
        c = await join(peers, lighthouse, f"{layer}-c", layer)
        triangle = (a, b, c)
        await eventually(all_connected(triangle, 2), f"{layer} triangle")
        triangles[layer] = triangle
    (clean_a, _, clean_c), (capped_a, capped_b, capped_c) = triangles["clean"], triangles["capped"]
    await asyncio.gather(
        send_paced(clean_a, 100, 0.02, fresh_only, 500), send_paced(capped_a, 100, 0.02, fresh_only, 500)
    )
    assert capped_b.impairment is not None
    await eventually(lambda: capped_c.stats.subtypes["expired", "fresh"] >= 20, "late copies count as expired", 30)
    assert capped_c.stats.subtypes["expired", "fresh"] > 5 * clean_c.stats.subtypes["expired", "fresh"]
    assert capped_c.metrics()["expiredTotal"] >= 20
    assert capped_b.impairment.counters.delayed > 20


async def test_signaling_is_impaired_only_when_asked(start_lighthouse: StartLighthouse, peers: list[Peer]) -> None:
    """Same datagram delay for both pairs; only one also delays its WebSocket, and connects that much later."""
    lighthouse = await start_lighthouse()
    profile = parse_profile("delay=150ms")
    opened: dict[bool, float] = {}
    for signaling in (False, True):
        layer = f"signaling-{signaling}"
        b = await join(peers, lighthouse, f"{layer}-b", layer)
        a = Peer(
            lighthouse.base, f"{layer}-a", settings=SLOW_CONNECT, impairment=PeerImpairment(profile, "s", signaling)
        )
        peers.append(a)
        await a.connect()
        started = time.monotonic()
        await a.set_layer(layer)  # a learns b and offers: the offer crosses a's WebSocket
        await eventually(connected_to(a, b), f"{layer} pair connects")
        opened[signaling] = time.monotonic() - started
        assert (a.signaling_delay is not None) is signaling
        assert a.signaling_delay is None or a.signaling_delay.counters.delayed >= 1
    assert opened[True] - opened[False] >= 0.1, opened
