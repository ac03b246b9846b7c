"""Copies of one packet in a layer too big to simulate whole: single floods through the formed mesh.

In a big layer the relay rules multiply copies so fast that a whole layer's traffic cannot be
simulated (nor run). The probe forms the layer's mesh with the same peers, policy and timeline but
without traffic, then lets a few peers send one position packet each, one after the other, and
counts the copies every receiver's real `Mesh` took in until the flood died out (or the budget ran
out: the count is then a lower bound). Copies of different packets do not meet: each flood runs on
a quiet mesh, as floods from different sources do in a healthy layer.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace

from peerperf.sim.payloads import position_message
from peerperf.sim.simpeer import POSITION
from peerperf.sizing.mesh_simulation import SimulationSettings, plan_layer, seeded_globals
from peerperf.sizing.virtual_layer import BudgetExceeded, VirtualLayer
from peerperf.sizing.virtual_peer import VirtualPeer

#: Virtual seconds the mesh forms before the first flood: joins, updates every 5 s, the first hints at 30 s.
FORM_SECONDS = 40.0
#: Virtual seconds each flood is given to die out (ttl 10 hops of a few ms each).
FLOOD_SECONDS = 0.5


@dataclass(frozen=True)
class FloodProbe:
    """Copies of one position packet per peer that received it, over the floods probed."""

    layer_size: int
    floods: int
    #: Floods that ran out of budget (their counts are lower bounds).
    cut: int
    copies_per_receiver: float
    connections: float
    receives: int
    cpu_seconds: float

    @property
    def lower_bound(self) -> bool:
        return self.cut > 0


def probe(settings: SimulationSettings, floods: int = 4, max_receives: int = 1_000_000) -> FloodProbe:
    """Form `settings`' layer without traffic, then flood one position packet from `floods` peers in turn."""
    with seeded_globals(settings.seed):
        return _probe(settings, floods, max_receives)


def _probe(settings: SimulationSettings, floods: int, max_receives: int) -> FloodProbe:
    started = time.process_time()
    rng = random.Random(settings.seed)
    quiet = replace(settings.peer, ping_interval=None)
    specs = plan_layer(settings, rng)
    layer = VirtualLayer(quiet, settings.network, rng, max_receives)
    peers = [VirtualPeer(s.peer_id, s.position, s.room, quiet, layer, rng) for s in specs]
    for peer in peers:
        layer.add(peer)
        joined = rng.uniform(0.0, settings.join_spread)
        layer.queue.at(joined, layer.start_loops, peer)
        layer.queue.at(joined, layer.join, peer)
    layer.queue.run_until(FORM_SECONDS)
    connections = sum(len(p.connections.connected_ids()) for p in peers) / len(peers)
    copies: list[float] = []
    cut = 0
    receives = 0
    for source in rng.sample(peers, min(floods, len(peers))):
        layer.receives = 0
        before = sum(p.mesh.measures.delivery.window.unique for p in peers)
        wall_ms = layer.queue.mesh_clock().wall_ms()
        source.mesh.send_message(source.room, position_message(source.position, sent_at=wall_ms), POSITION)
        try:
            layer.queue.run_until(layer.queue.now + FLOOD_SECONDS)
        except BudgetExceeded:
            cut += 1
            layer.drop_frames()
        reached = sum(p.mesh.measures.delivery.window.unique for p in peers) - before
        receives += layer.receives
        copies.append(min(layer.receives, max_receives) / max(reached, 1))
    return FloodProbe(
        settings.layer_size,
        len(copies),
        cut,
        sum(copies) / len(copies),
        connections,
        receives,
        time.process_time() - started,
    )
