"""Packets per peer at a layer size: the whole layer simulated when that fits the budget, else a bound.

A layer the simulation can run whole gives every rate directly. A bigger one stops at the budget;
then single floods through the formed mesh (`flood_probe`) give the copies each unreliable packet
makes, and received packets per peer are at least (layer - 1) x (unreliable rate x copies + reliable
rate), pings and pongs left out: a lower bound, said so wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.peer.settings import PeerSettings
from peerperf.sizing.flood_probe import probe
from peerperf.sizing.mesh_simulation import SimulationSettings, simulate
from peerperf.sizing.routine_rate import routine_rate


@dataclass(frozen=True)
class Budget:
    """How much simulation a prediction may spend (frames handed to meshes)."""

    whole_layer: int = 3_000_000
    floods: int = 3
    per_flood: int = 300_000


@dataclass(frozen=True)
class PacketPrediction:
    """Per peer per second in a layer of `layer_size`."""

    layer_size: int
    received: float
    sent: float
    relayed: float
    unique: float
    copies_per_unique: float
    connections: float
    #: The layer was too big to simulate whole: the rates (and anything computed from them) are lower bounds.
    lower_bound: bool
    basis: str
    cpu_seconds: float


def predict(
    layer_size: int,
    routine: str,
    peer: PeerSettings,
    *,
    seed: int = 1,
    duration: float = 20.0,
    budget: Budget | None = None,
) -> PacketPrediction:
    budget = budget or Budget()
    settings = SimulationSettings(
        layer_size, routine=routine, peer=peer, duration=duration, seed=seed, max_receives=budget.whole_layer
    )
    whole = simulate(settings)
    if whole.complete:
        r = whole.rates
        return PacketPrediction(
            layer_size,
            r.received,
            r.sent,
            r.relayed,
            r.unique,
            r.copies_per_unique,
            whole.connections,
            False,
            f"the whole layer of {layer_size} simulated for {whole.measured_seconds:.0f} virtual s of steady state "
            f"(the real Mesh relay code, {whole.receives:,} frames)",
            whole.cpu_seconds,
        )
    flood = probe(settings, budget.floods, budget.per_flood)
    rate = routine_rate(routine)
    others = layer_size - 1
    received = others * (rate.unreliable * flood.copies_per_receiver + rate.reliable)
    sent = rate.total * flood.connections
    bound = "at least " if flood.lower_bound else ""
    return PacketPrediction(
        layer_size,
        received,
        sent,
        max(received - sent, 0.0),
        others * rate.total,
        received / (others * rate.total) if rate.total else float("nan"),
        flood.connections,
        True,
        f"the whole layer of {layer_size} passed the simulation's budget of {budget.whole_layer:,} frames; "
        f"{flood.floods} single floods through its formed mesh made {bound}{flood.copies_per_receiver:,.0f} "
        f"copies of a packet per peer; x {rate.unreliable:g} unreliable + {rate.reliable:g} reliable messages/s "
        f"from each of {others} others, pings and pongs left out: a lower bound",
        whole.cpu_seconds + flood.cpu_seconds,
    )
