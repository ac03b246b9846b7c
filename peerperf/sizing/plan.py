"""A run's size from a calibration: CPU per peer, peers per host and per node, nodes, vCPUs, `peer_slot`.

Packets per peer come from the simulation at the requested layer size (`packet_prediction`), CPU
from the calibration's cost model. A node of `node_cpus` is assumed to cost per core what the
calibration machine did (calibrate on one node of the type you launch), and its peers may use
`utilisation` of every core. Each peer host (one event loop, so at most one core) gets as many peers
as keep it no busier than the busiest host the calibration measured healthy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from peerperf.sizing.calibration import Calibration
from peerperf.sizing.packet_prediction import PacketPrediction

#: How closely the simulation predicts packets per peer (bench/plan_validation.py checks 10 %): a prediction this
#: much above the most the calibration measured is still within what it measured.
PACKETS_RESOLUTION = 0.10


@dataclass(frozen=True)
class PlanRequest:
    """What to size."""

    peers: int
    layer_size: int
    node_cpus: int
    #: Share of each core the peers may use.
    utilisation: float


@dataclass(frozen=True)
class Plan:
    """The predicted load and the cluster that carries it (`nodes` None: no node can carry a peer)."""

    request: PlanRequest
    packets: PacketPrediction
    calibration_source: str
    calibration_machine: str
    peers_per_actor: int
    host_cores: float
    cores_per_peer: float
    peers_per_node: int
    nodes: int | None
    vcpus: int | None
    #: Whether CPU per peer comes from beyond the layers and packet rates the calibration measured.
    extrapolated: bool
    #: The largest layer size the calibration measured healthy.
    largest_measured: int
    #: Cores one host may use: the busiest host the calibration measured healthy (or the utilisation, if lower).
    host_budget: float
    notes: list[str] = field(default_factory=list)

    @property
    def peer_slot(self) -> int | None:
        """The `peer_slot` of a node in cluster.yaml: the peers one node holds (one slot per peer)."""
        return self.peers_per_node if self.nodes is not None else None

    @property
    def layers(self) -> int:
        return math.ceil(self.request.peers / self.request.layer_size)

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request.__dict__,
            "layers": self.layers,
            "packets": self.packets.__dict__,
            "calibration": {"source": self.calibration_source, "machine": self.calibration_machine},
            "peers_per_actor": self.peers_per_actor,
            "host_cores": self.host_cores,
            "host_budget": self.host_budget,
            "cores_per_peer": self.cores_per_peer,
            "peers_per_node": self.peers_per_node,
            "nodes": self.nodes,
            "vcpus": self.vcpus,
            "peer_slot": self.peer_slot,
            "extrapolated": self.extrapolated,
            "lower_bound": self.packets.lower_bound,
            "notes": self.notes,
        }


def make_plan(request: PlanRequest, calibration: Calibration, packets: PacketPrediction) -> Plan:
    """Size a run of `request` from the predicted packets and the calibration's cost model."""
    model = calibration.fit.model
    received = packets.received
    # One host's event loop: no busier than the busiest host the calibration saw healthy (bursts of copies make
    # ticks late well before a host's mean reaches a core), nor than the utilisation.
    budget = min(request.utilisation, calibration.busiest_healthy_host or request.utilisation)
    per_peer = model.per_peer + model.per_packet * received
    fits = math.floor((budget - model.per_process) / per_peer) if per_peer > 0 else request.peers
    peers_per_actor = max(1, min(fits, request.peers))
    host = model.host_cores(peers_per_actor, received)
    notes: list[str] = []
    if host > 1.0:
        notes.append(
            f"one peer alone needs {host:,.2f} cores, more than the one core a host's event loop can use: "
            "no host can run this layer healthy"
        )
    elif fits < 1:
        notes.append(
            f"one peer needs {host:.0%} of a core, more than the {budget:.0%} a host should run at: one peer per host, "
            "expect late ticks"
        )
    cores_per_peer = host / peers_per_actor
    node_budget = request.node_cpus * request.utilisation
    peers_per_node = 0 if host > 1.0 else math.floor(node_budget / cores_per_peer)
    if 0 < peers_per_node < peers_per_actor:
        peers_per_actor = peers_per_node
    nodes = math.ceil(request.peers / peers_per_node) if peers_per_node > 0 else None
    if nodes is None and host <= 1.0:
        notes.append(f"one peer needs {cores_per_peer:,.2f} cores, more than a node of {request.node_cpus} offers")
    largest = calibration.largest_healthy or 0
    measured_received = max((m.received for m in calibration.layers if m.healthy), default=0.0)
    extrapolated = request.layer_size > largest or received > measured_received * (1 + PACKETS_RESOLUTION)
    if extrapolated:
        notes.append(
            f"CPU is extrapolated from the fit: the calibration measured healthy layers up to {largest} peers "
            f"({measured_received:,.0f} packets received per peer/s); the packet counts come from the simulation"
        )
    if packets.lower_bound:
        notes.append("the layer is too big to simulate whole: packets and CPU are lower bounds, the cluster a minimum")
    return Plan(
        request,
        packets,
        calibration.source,
        f"{calibration.machine.cpu_model}, {calibration.machine.cores} cores",
        peers_per_actor,
        host,
        cores_per_peer,
        peers_per_node,
        nodes,
        nodes * request.node_cpus if nodes is not None else None,
        extrapolated,
        largest,
        budget,
        notes,
    )


def render(plan: Plan) -> str:
    """The plan as a person reads it, ending with the line for cluster.yaml."""
    r, p = plan.request, plan.packets
    at_least, at_most = ("at least ", "at most ") if p.lower_bound else ("", "")
    lines = [
        f"plan: {r.peers:,} peers in {plan.layers} layer(s) of {r.layer_size}, nodes of {r.node_cpus} vCPUs at "
        f"{r.utilisation:.0%} of each core",
        f"calibration: {plan.calibration_source} ({plan.calibration_machine}), scaled per core",
        f"packets per peer per second: {at_least}{p.received:,.0f} received ({at_least}{p.copies_per_unique:,.1f} "
        f"copies per unique packet), {p.sent:,.0f} sent, {at_least}{p.relayed:,.0f} relayed; "
        f"{p.connections:.1f} connections per peer",
        f"  basis: {p.basis}",
        f"CPU per peer: {at_least}{plan.cores_per_peer:,.3f} cores with {plan.peers_per_actor} peer(s) per actor "
        f"(a host at {_host(plan.host_cores)}; the busiest host calibrated healthy ran at {plan.host_budget:.0%})",
    ]
    if plan.nodes is None:
        lines.append(
            f"peers per node: 0; nodes: none; vCPUs: none: layers of {r.layer_size} cannot run healthy on any node "
            f"(the calibration ran layers up to {plan.largest_measured} healthy: `peerperf plan --peers {r.peers} "
            f"--layer-size {plan.largest_measured}`)"
        )
    else:
        assert plan.vcpus is not None
        lines += [
            f"peers per node: {at_most}{plan.peers_per_node:,}; nodes: {at_least}{plan.nodes:,}; "
            f"vCPUs: {at_least}{plan.vcpus:,}",
            f"run with: --peers {r.peers} --layer-size {r.layer_size} --peers-per-actor {plan.peers_per_actor}",
        ]
    lines += [f"note: {note}" for note in plan.notes]
    lines.append(
        f"cluster.yaml: peer_slot: {plan.peer_slot}"
        if plan.peer_slot is not None
        else "cluster.yaml: no peer_slot fits"
    )
    return "\n".join(lines)


def _host(cores: float) -> str:
    return f"{cores:.0%} of a core" if cores <= 1 else f"{cores:,.2f} cores"
