"""A peer host's simulated peers: each made with the host's clock, timer phases and impairment, and what the
host adds to each peer's metrics of a window (where it ran, its routine, room moves, impairment, join time)."""

from __future__ import annotations

import random
from typing import Any

from peerperf.peer import Peer, PeerSettings
from peerperf.sim.clock import HostClock
from peerperf.sim.host_config import HostConfig, PeerSpec
from peerperf.sim.host_reports import one_value
from peerperf.sim.payloads import comms_send_time
from peerperf.sim.phases import peer_phases, phase, routine_timer
from peerperf.sim.routines import load_routine, routine_params
from peerperf.sim.simpeer import SimulatedPeer, start_offset


def make_peer(
    spec: PeerSpec,
    config: HostConfig,
    settings: PeerSettings,
    clock: HostClock,
    rng: random.Random,
    timer_seed: int | None,
) -> SimulatedPeer:
    """`spec`'s peer and routine, not yet connected: its messages go to the routine once it exists."""
    routine = load_routine(spec.routine)
    sim: SimulatedPeer | None = None

    def on_message(*args: Any) -> None:
        if sim is not None:
            sim.on_message(*args)

    peer = Peer(
        config.lighthouse_url,
        spec.peer_id,
        settings=settings,
        position=spec.position,
        on_message=on_message,
        send_time=lambda payload, packet: comms_send_time(payload, packet, clock.offset_ms),
        impairment=spec.impairment,
        phases=peer_phases(timer_seed, spec.index),
    )
    sim = SimulatedPeer(
        peer,
        routine,
        spec.routine,
        spec.room,
        start_offset(rng, config.max_start_offset),
        clock.reference_now_ms,
        lambda key: phase(timer_seed, routine_timer(key), spec.index),
        routine_params(spec.routine),
        config.rooms,
    )
    return sim


def add_host_view(metrics: dict[str, Any], sim: SimulatedPeer, host: dict[str, Any], routine_errors: int) -> None:
    """Complete `sim`'s window `metrics` with the host's fields and what the host knows of the peer."""
    metrics.update(host)
    metrics.update(room=sim.room, layer=sim.peer.layer or "", routine=sim.routine_name, routineErrors=routine_errors)
    metrics.update(rooms=sorted(sim.rooms), roomMoves=sim.room_set.take_moves())
    metrics.update(sim.peer.impairment_metrics())
    if sim.join_ms is not None:  # the join goes with the peer's first window
        metrics["joinMs"] = one_value(sim.join_ms)
        sim.join_ms = None
