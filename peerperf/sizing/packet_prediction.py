"""Packets per peer at a layer size: the whole layer simulated when that fits the budget, else a bound.

Single floods through the formed mesh (`flood_probe`) come first: they are cheap, and they tell how
many frames the whole layer would take. A layer that fits the budget is then simulated whole, which
gives every rate directly (pings and pongs included). A bigger one is not run: received packets per
peer are at least (layer - 1) x (unreliable rate x copies + reliable rate), pings and pongs left out:
a lower bound, said so wherever it is shown.
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
    #: Floods from this many sources, each cut at `per_flood` frames (a layer of 100 then takes about 25 s).
    floods: int = 2
    per_flood: int = 300_000
    #: Seconds of this machine's time the whole-layer simulation and the routine's rate may each take
    #: (None: no limit); past it the prediction is the flood probe's lower bound.
    wall_seconds: float | None = None


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
        layer_size,
        routine=routine,
        peer=peer,
        duration=duration,
        seed=seed,
        max_receives=budget.whole_layer,
        wall_seconds=budget.wall_seconds,
    )
    flood = probe(settings, budget.floods, budget.per_flood)
    rate = routine_rate(routine, wall_seconds=budget.wall_seconds)
    others = layer_size - 1
    at_least = others * (rate.unreliable * flood.copies_per_receiver + rate.reliable)  # received per peer per s
    expected_frames = layer_size * at_least * (settings.duration + settings.max_start_offset)
    spent = flood.cpu_seconds
    if not flood.lower_bound and expected_frames <= budget.whole_layer:
        whole = simulate(settings)
        spent += whole.cpu_seconds
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
                f"the whole layer of {layer_size} simulated for {whole.measured_seconds:.0f} virtual s of steady "
                f"state (the real Mesh relay code, {whole.receives:,} frames)",
                spent,
            )
    sent = rate.total * flood.connections
    bound = "at least " if flood.lower_bound else ""
    return PacketPrediction(
        layer_size,
        at_least,
        sent,
        max(at_least - sent, 0.0),
        others * rate.total,
        at_least / (others * rate.total) if rate.total else float("nan"),
        flood.connections,
        True,
        f"the whole layer of {layer_size} would take more than the simulation's budget of {budget.whole_layer:,} "
        f"frames; {flood.floods} single floods through its formed mesh made {bound}"
        f"{flood.copies_per_receiver:,.0f} copies of a packet per peer; x {rate.unreliable:g} unreliable + "
        f"{rate.reliable:g} reliable messages/s from each of {others} others, pings and pongs left out: a lower bound",
        spent,
    )
