"""How exactly in-process impairment delivers what a profile asks, against a clean pair measured alongside.

Pairs of real peers (embedded lighthouse, aiortc on loopback) run side by side on one event loop: a
clean pair and one pair per profile. Each sender sends paced reliable messages; the receiver takes
arrival time minus the packet's timestamp. Printed: the added one-way latency (median, p95) and
ping round trip versus the clean pair, the share of datagrams lost, and goodput versus a rate cap.

    python bench/impairment_accuracy.py [--messages 400] [--interval 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import Peer, PeerSettings
from peerperf.peer.impairment_profile import PeerImpairment, parse_profile
from peerperf.protocol.messagetypes import reliable
from peerperf.protocol.packets import Packet, Payload
from peerperf.settings import resolve

PROFILES = ("delay=50ms", "delay=50ms,jitter=10ms", "loss=10%", "loss=5%,burst=4", "rate=1mbit")
SETTINGS = PeerSettings(peer_connect_timeout=6.0, stats_update_interval=0)
CHAT = reliable("chat")


class Receiver:
    def __init__(self) -> None:
        self.latency_ms: list[float] = []
        self.first = self.last = 0.0

    def __call__(self, src: str, room: str, payload: Payload, packet: Packet) -> None:
        now = time.time()
        self.first = self.first or now
        self.last = now
        self.latency_ms.append(now * 1000 - packet.timestamp)


async def make_pair(base: str, name: str, profile: str | None) -> tuple[Peer, Peer, Receiver]:
    setup = PeerImpairment(parse_profile(profile), "bench") if profile else None
    receiver = Receiver()
    a = Peer(base, f"{name}-a", settings=SETTINGS, impairment=setup)
    b = Peer(base, f"{name}-b", settings=SETTINGS, impairment=setup, on_message=receiver)
    for peer in (a, b):
        await peer.connect()
        await peer.set_layer(name)
        await peer.join_room("room")
    deadline = time.monotonic() + 30
    while a.connected_ids() != [b.id]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"pair {name} did not connect")
        await asyncio.sleep(0.05)
    return a, b, receiver


async def ping_ms(peer: Peer, other: str, rounds: int = 10) -> float:
    assert peer.mesh is not None
    rtts = []
    for _ in range(rounds):
        round_ = peer.mesh.send_ping()
        deadline = time.monotonic() + 10
        while other not in round_.latencies and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        rtts.append(peer.mesh.end_ping(round_).get(other, float("nan")))
    return statistics.median(rtts)


async def send(peer: Peer, count: int, interval: float, size: int) -> None:
    for _ in range(count):
        peer.send_message("room", bytes(size), CHAT)
        await asyncio.sleep(interval)


async def main(messages: int, interval: float) -> None:
    settings = resolve(LighthouseSettings, environ={}, no_auth=True, host="127.0.0.1", port=0)
    async with serving(create_app(settings), "127.0.0.1", 0) as port:
        base = f"http://127.0.0.1:{port}"
        pairs = {name: await make_pair(base, f"p{i}", name or None) for i, name in enumerate(("", *PROFILES))}
        try:
            size = 1000
            await asyncio.gather(*(send(a, messages, interval, size) for a, _, _ in pairs.values()))
            deadline = time.monotonic() + 60
            while any(len(r.latency_ms) < messages for _, _, r in pairs.values()) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            pings = await asyncio.gather(*(ping_ms(a, b.id) for a, b, _ in pairs.values()))
            clean = pairs[""][2].latency_ms
            clean_rtt = pings[0]
            offered = size * 8 / interval / 1e6
            print(f"{messages} messages of {size} B every {interval * 1000:g} ms ({offered:.2f} mbit/s offered)")
            print(f"clean pair: median {statistics.median(clean):.2f} ms, ping {clean_rtt:.2f} ms\n")
            print(f"{'profile':26} {'delivered':>9} {'+median':>8} {'+p95':>8} {'+ping':>8} {'lost':>7} {'goodput':>8}")
            for (name, (a, _, receiver)), rtt in zip(pairs.items(), pings, strict=True):
                if not name:
                    continue
                lat = receiver.latency_ms
                quantiles = statistics.quantiles(lat, n=20)
                base_q = statistics.quantiles(clean, n=20)
                counters = a.impairment.counters if a.impairment else None
                lost = counters.dropped / max(1, counters.sent) if counters else 0.0
                seconds = max(receiver.last - receiver.first, 1e-9)
                goodput = (len(lat) - 1) * size * 8 / seconds / 1e6
                print(
                    f"{name:26} {len(lat) / messages:9.1%} {statistics.median(lat) - statistics.median(clean):8.2f}"
                    f" {quantiles[18] - base_q[18]:8.2f} {rtt - clean_rtt:8.2f} {lost:7.2%} {goodput:7.2f}M"
                )
        finally:
            for a, b, _ in pairs.values():
                await a.dispose()
                await b.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between messages")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.messages, args.interval))
