"""cluster.yaml's peer_slot and node count, and the docs' sizing figures, are what `peerperf plan` prints from the
shipped calibration: a change to the relay code, the policy or the calibration shows here until the docs follow."""

from __future__ import annotations

import functools
import re

import yaml

from peerperf.sizing import calibration as calibration_file
from peerperf.sizing import peer_settings_json
from peerperf.sizing.packet_prediction import predict
from peerperf.sizing.plan import Plan, PlanRequest, make_plan
from peerperf.sizing.sizing_settings import UTILISATION
from tests.conftest import REPO_ROOT

CLUSTER_YAML = REPO_ROOT / "cluster.yaml"
#: The command cluster.yaml and the docs say their sizing comes from.
PLAN_COMMAND = re.compile(r"peerperf plan --peers (\d+) --layer-size (\d+) --node-cpus (\d+)")


@functools.cache
def sized_plan() -> Plan:
    found = PLAN_COMMAND.search(CLUSTER_YAML.read_text())
    assert found, "cluster.yaml names no `peerperf plan` command"
    peers, layer_size, cpus = (int(g) for g in found.groups())
    shipped = calibration_file.default()
    packets = predict(layer_size, shipped.routine, peer_settings_json.from_json(shipped.peer_settings))
    return make_plan(PlanRequest(peers, layer_size, cpus, UTILISATION), shipped, packets)


def test_cluster_yaml_takes_peer_slot_and_node_count_from_the_plan() -> None:
    plan = sized_plan()
    text = CLUSTER_YAML.read_text()
    cluster = yaml.safe_load(text)
    peer = cluster["available_node_types"]["peer"]
    assert plan.peer_slot is not None and peer["resources"]["peer_slot"] == plan.peer_slot
    assert peer["max_workers"] == plan.nodes and cluster["max_workers"] == plan.nodes
    r = plan.request
    assert f"--peers {r.peers} --layer-size {r.layer_size} --peers-per-actor {plan.peers_per_actor}" in text
    assert "calibrated" in text and "peerperf calibrate" in text  # how to redo it for another node type


def test_the_docs_state_the_plans_figures() -> None:
    plan = sized_plan()
    section = (REPO_ROOT / "docs" / "usage" / "scale-out.md").read_text()
    r = plan.request
    assert f"peerperf plan --peers {r.peers} --layer-size {r.layer_size} --node-cpus {r.node_cpus}" in section
    assert f"--peers {r.peers} --layer-size {r.layer_size} --peers-per-actor {plan.peers_per_actor}" in section
    assert plan.nodes is not None and plan.vcpus is not None
    for figure in (f"peer_slot: {plan.peer_slot}", f"{plan.nodes} peer nodes", f"{plan.vcpus} vCPUs"):
        assert figure in section, figure
