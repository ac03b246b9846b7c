"""A plan's arithmetic: peers per host and per node from the cost model, nodes and vCPUs, `peer_slot`, and what
it says when a layer is beyond measurement or beyond any node."""

from __future__ import annotations

import dataclasses
import math

import pytest

from peerperf.sizing.calibration import Calibration
from peerperf.sizing.cost_model import CostModel, Fit
from peerperf.sizing.packet_prediction import PacketPrediction
from peerperf.sizing.plan import PlanRequest, make_plan, render
from tests.sizing.fixtures import LAYERS, calibration


def packets(received: float, layer_size: int = 8, lower_bound: bool = False) -> PacketPrediction:
    return PacketPrediction(
        layer_size, received, 80.0, received - 80.0, 80.0, received / 80.0, 6.2, lower_bound, "test", 0.1
    )


def with_cost(cost: CostModel) -> Calibration:
    return dataclasses.replace(calibration(), fit=Fit(cost, ("per_process", "per_peer", "per_packet"), [], 0.0))


COST = CostModel(per_process=0.02, per_peer=0.005, per_packet=150e-6)


def test_hosts_stay_as_busy_as_the_calibration_saw_healthy_and_nodes_fill_to_the_utilisation() -> None:
    cal = with_cost(COST)
    busiest = cal.busiest_healthy_host
    assert busiest == pytest.approx(0.21)  # the fixture's layer of 8: 0.02 + 8 x (0.005 + 125 x 150 us)
    plan = make_plan(PlanRequest(1000, 8, 16, 0.6), cal, packets(125.0))
    per_peer = COST.per_peer + COST.per_packet * 125.0  # 0.02375 cores
    assert plan.host_budget == busiest and plan.peers_per_actor == math.floor((busiest - 0.02) / per_peer) == 8
    assert plan.host_cores == pytest.approx(0.02 + 8 * per_peer) and plan.host_cores <= busiest
    assert plan.cores_per_peer == pytest.approx(plan.host_cores / 8)
    assert plan.peers_per_node == math.floor(16 * 0.6 / plan.cores_per_peer)
    assert plan.nodes == math.ceil(1000 / plan.peers_per_node) and plan.vcpus == plan.nodes * 16
    assert plan.peer_slot == plan.peers_per_node and plan.layers == 125
    assert not plan.extrapolated and not plan.notes  # layer 8 and 125 packets/s were measured healthy


def test_a_lower_utilisation_caps_the_host_too() -> None:
    plan = make_plan(PlanRequest(1000, 8, 16, 0.1), with_cost(COST), packets(125.0))
    assert plan.host_budget == 0.1 and plan.peers_per_actor == 3 and plan.host_cores <= 0.1


def test_a_layer_beyond_the_calibration_is_said_to_be_extrapolated() -> None:
    plan = make_plan(PlanRequest(100, 16, 16, 0.6), with_cost(COST), packets(1200.0, layer_size=16))
    assert plan.extrapolated and any("extrapolated from the fit" in n and "up to 8 peers" in n for n in plan.notes)
    assert "CPU is extrapolated" in render(plan)


def test_a_layer_no_event_loop_can_carry_has_no_nodes_and_no_peer_slot() -> None:
    plan = make_plan(PlanRequest(1000, 50, 16, 0.6), with_cost(COST), packets(3e6, layer_size=50, lower_bound=True))
    assert plan.nodes is None and plan.vcpus is None and plan.peer_slot is None and plan.peers_per_node == 0
    assert any("more than the one core" in n for n in plan.notes)
    assert any("lower bounds" in n for n in plan.notes)
    text = render(plan)
    assert "nodes: none; vCPUs: none: layers of 50 cannot run healthy on any node" in text
    assert "`peerperf plan --peers 1000 --layer-size 8`" in text and text.endswith("cluster.yaml: no peer_slot fits")
    assert "at least 3,000,000 received" in text


def test_one_peer_above_the_utilisation_gets_a_host_of_its_own_and_a_warning() -> None:
    plan = make_plan(PlanRequest(10, 12, 16, 0.6), with_cost(COST), packets(5000.0, layer_size=12))  # 0.775 cores
    assert plan.peers_per_actor == 1 and plan.host_cores == pytest.approx(0.02 + 0.005 + 0.75)
    assert any("one peer per host, expect late ticks" in n for n in plan.notes)


def test_the_rendered_plan_ends_with_the_peer_slot_and_the_json_has_every_figure() -> None:
    plan = make_plan(PlanRequest(1000, 8, 16, 0.6), with_cost(COST), packets(125.0))
    text = render(plan)
    assert text.splitlines()[-1] == f"cluster.yaml: peer_slot: {plan.peer_slot}"
    assert f"--peers-per-actor {plan.peers_per_actor}" in text and "scaled per core" in text
    data = plan.to_json()
    assert data["nodes"] == plan.nodes and data["peer_slot"] == plan.peer_slot and data["packets"]["received"] == 125.0
    assert data["calibration"]["machine"] == "Test CPU @ 3 GHz, 2 cores"


def test_the_fixture_calibration_stops_at_its_largest_healthy_layer() -> None:
    assert calibration().largest_healthy == 8 and len(LAYERS) == 5
