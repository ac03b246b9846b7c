"""Before a run starts: does each node get more peers than the plan says it holds healthy?

A run that overloads its nodes measures the harness, not the network, and on a cluster it is paid
for by the hour; this says so before the peers start, naming the numbers. The packets come from a
quick simulation of the run's own layer size, routine and peer settings (with a small budget: a lower
bound is enough to know a node is overloaded), the CPU from the calibration (`PEERPERF_CALIBRATION`,
else the shipped one).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.settings import resolve
from peerperf.sizing import calibration as calibration_file
from peerperf.sizing.calibration import Calibration
from peerperf.sizing.packet_prediction import Budget, predict
from peerperf.sizing.plan import PlanRequest, make_plan
from peerperf.sizing.sizing_settings import PlanSettings

#: A check must not hold a run up: a small simulation, whose lower bound still shows an overload.
CHECK_BUDGET = Budget(whole_layer=400_000, floods=2, per_flood=100_000, wall_seconds=5.0)
CHECK_DURATION = 12.0


@dataclass(frozen=True)
class NodeLoad:
    """What a run puts on one node."""

    peers: int
    cpus: int
    layer_size: int
    peers_per_actor: int
    routine: str
    peer: PeerSettings


def placement_warning(load: NodeLoad, calibration: Calibration | None = None) -> str | None:
    """A warning when `load` puts more peers on a node than it holds healthy; None when it fits (or cannot be
    told: an unreadable calibration is said as the warning itself)."""
    settings = resolve(PlanSettings)
    try:
        if calibration is None:
            calibration = (
                calibration_file.load(Path(settings.calibration).expanduser())
                if settings.calibration
                else calibration_file.default()
            )
    except ConfigError as exc:
        return f"placement not checked: {exc}"
    packets = predict(load.layer_size, load.routine, load.peer, duration=CHECK_DURATION, budget=CHECK_BUDGET)
    request = PlanRequest(load.peers, load.layer_size, load.cpus, settings.utilisation)
    plan = make_plan(request, calibration, packets)
    model = calibration.fit.model
    per_peer = model.cores_per_peer(load.peers_per_actor, packets.received)
    host = model.host_cores(min(load.peers_per_actor, load.peers), packets.received)
    holds = 0 if host > 1.0 else math.floor(load.cpus * settings.utilisation / per_peer)
    if load.peers <= holds:
        return None
    at_least = "at least " if packets.lower_bound else ""
    fits = f"holds {holds} healthy" if holds else "holds no peer healthy"
    return (
        f"{load.peers} peers per node, but a node of {load.cpus} CPUs {fits} at {load.layer_size}-peer layers with "
        f"{load.peers_per_actor} per actor ({at_least}{per_peer:.3f} cores per peer, {at_least}"
        f"{packets.received:,.0f} packets received per peer/s; calibration: {calibration.source}): expect HARNESS "
        f"SATURATED. `peerperf plan --peers {load.peers} --layer-size {load.layer_size}` sizes it "
        f"({plan.peers_per_actor} per actor, {plan.peers_per_node} per node)"
    )


def local_cpus() -> int:
    return os.cpu_count() or 1
