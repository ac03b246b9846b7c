"""A real multi-node Ray cluster on this machine, run as a user runs one on a cloud.

The head and two peer nodes, each in a network namespace of its own with its own address, joined by
a bridge in a namespace of its own, nothing routed out (scripts/rehearsal); Ray started on each as
cluster.yaml starts it (token auth, `PEERPERF_NETWORK=cluster`, `peer_slot` on peer nodes only).
`python -m peerperf.run --address` runs in the head's namespace. Checked: peers on every peer node and
none on the head, links between nodes carrying packets, the lighthouse and results service at the
head's address, full delivery and a healthy harness, no socket outside the nodes' subnet; a peer node
killed mid-run is named and fails the run; with `--restart-hosts 1` its hosts come back on the other.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.rehearsal import cluster, netns, raynodes
from scripts.rehearsal.cluster import Rehearsal
from scripts.rehearsal.netns import Node
from tests.cluster.namespace_sockets import NamespaceWatch, watching
from tests.runcli import Run, results_document

pytestmark = [
    pytest.mark.root,  # builds network namespaces
    pytest.mark.timeout(240),
]

PEERS = 6
PEERS_PER_ACTOR = 2
#: Each peer node can hold every host, so a lost node's hosts fit on the other.
PEER_SLOTS = PEERS
LIGHTHOUSE_PORT = 9000
RESULTS_PORT = 9904
#: How long Ray may take to see a killed node's replacement joined and the killed one dead.
NODES_TIMEOUT = 120.0
FETCH_SCRIPT = "import sys, urllib.request; r = urllib.request.urlopen(sys.argv[1], timeout=10); print(r.status)"


@pytest.fixture(scope="module")
def rehearsal() -> Iterator[Rehearsal]:
    built = cluster.up(peer_nodes=2, peer_slots=PEER_SLOTS)
    try:
        yield built
    finally:
        cluster.down(built.prefix)
    assert netns.namespaces(built.prefix) == [] and not built.temp_dir.exists(), "the rehearsal left something"


async def start_run(rehearsal: Rehearsal, output: Path, *args: str) -> Run:
    """`python -m peerperf.run --address` in the head's namespace, with the environment a node has."""
    return await Run.start(
        *("--address", rehearsal.address, "--peers", str(PEERS), "--peers-per-actor", str(PEERS_PER_ACTOR)),
        *("--lighthouse-port", str(LIGHTHOUSE_PORT), "--results-port", str(RESULTS_PORT)),
        *("--output", str(output / "results")),
        *args,
        prefix=raynodes.on_node(rehearsal.network.head, []),
        base_env=rehearsal.environment(),
    )


async def until_every_peer_reported(run: Run) -> None:
    """Read the run's progress lines until every peer has submitted a datapoint."""
    while True:
        line = await run.until("[running]")
        found = re.search(r"datapoints (\d+)", line)
        if found and int(found[1]) >= PEERS:
            return


def peer_node_ids(rehearsal: Rehearsal) -> dict[str, str]:
    """Address -> Ray node id of every alive node, once each peer node is up exactly once (and the head)."""
    deadline = time.monotonic() + NODES_TIMEOUT
    while True:
        alive = [n for n in rehearsal.nodes() if n["alive"]]
        addresses = sorted(n["address"] for n in alive)
        if addresses == sorted(node.address for node in rehearsal.network.nodes):
            return {n["address"]: n["id"] for n in alive}
        assert time.monotonic() < deadline, f"the cluster's alive nodes are {addresses}"
        time.sleep(2)


def fetch_from(node: Node, url: str, env: dict[str, str]) -> str:
    """GET `url` from inside `node`'s namespace; the answer's status."""
    argv = raynodes.on_node(node, [sys.executable, "-c", FETCH_SCRIPT, url])
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def peers_by_node(document: dict[str, Any]) -> dict[str, str]:
    return {p["peerId"]: p["metrics"]["nodeId"] for p in document["dataPoints"]}


async def test_a_run_on_the_head_spreads_its_peers_over_the_peer_nodes(rehearsal: Rehearsal, tmp_path: Path) -> None:
    head, peer_nodes = rehearsal.network.head, rehearsal.network.peers
    nodes = peer_node_ids(rehearsal)
    summary_path = tmp_path / "summary.json"
    with watching([node.namespace for node in rehearsal.network.nodes]) as sockets:
        run = await start_run(rehearsal, tmp_path, "--duration", "20", "--summary-json", str(summary_path))
        await until_every_peer_reported(run)
        # The results service answers at the head's address, from another node.
        page = f"http://{head.address}:{RESULTS_PORT}/"
        assert await asyncio.to_thread(fetch_from, peer_nodes[0], page, rehearsal.environment()) == "200"
        assert await run.finish() == 0, run.output
    assert f"live page: {page}" in run.output

    document = results_document(tmp_path / "results")
    node_of = peers_by_node(document)
    assert len(node_of) == PEERS
    assert set(node_of.values()) == {nodes[node.address] for node in peer_nodes}, "every peer node, not the head"
    assert_traffic_crossed_nodes(document, {node.name: nodes[node.address] for node in peer_nodes})
    summary = json.loads(summary_path.read_text())
    assert summary["metrics"]["delivery"] >= 0.99, summary["metrics"]
    assert summary["harness"]["status"] == "healthy", summary["harness"]
    assert_sockets_stayed_on_the_bridge(sockets, rehearsal)


def assert_traffic_crossed_nodes(document: dict[str, Any], node_ids: dict[str, str]) -> None:
    """Connections link peers on different nodes, and each node's peers received the other node's packets."""
    node_of = peers_by_node(document)
    points = document["dataPoints"]
    crossing = [
        (p["peerId"], other)
        for p in points
        for other in p["metrics"]["connectedPeers"]
        if node_of.get(other, node_of[p["peerId"]]) != node_of[p["peerId"]]
    ]
    assert crossing, "no connection links peers on different nodes"
    for name, node_id in node_ids.items():
        members = {peer for peer, where in node_of.items() if where == node_id}
        received = sum(p["metrics"]["uniqueReceived"] for p in points if p["peerId"] in members)
        originated = {p["peerId"]: p["metrics"]["originatedTotal"] for p in points if p["peerId"] in members}
        # Without traffic between nodes, a node's peers could receive each of their own packets once at most.
        assert received > sum(originated.values()) * (len(members) - 1), (
            f"{name}'s peers heard nothing from the other node"
        )


def assert_sockets_stayed_on_the_bridge(sockets: NamespaceWatch, rehearsal: Rehearsal) -> None:
    """No socket outside the nodes' subnet; the services listened at the head's address and the peers used it."""
    assert sockets.outside([rehearsal.network.subnet]) == [], "a socket outside the nodes' subnet"
    head = rehearsal.network.head
    head_address = ipaddress.IPv4Address(head.address)
    listening = {(s.local, s.local_port) for s in sockets.seen[head.namespace] if s.state == "LISTEN"}
    assert {(head_address, LIGHTHOUSE_PORT), (head_address, RESULTS_PORT)} <= listening
    for node in rehearsal.network.peers:
        seen = sockets.seen[node.namespace]
        to_lighthouse = [
            s for s in seen if s.state == "ESTABLISHED" and (s.remote, s.remote_port) == (head_address, LIGHTHOUSE_PORT)
        ]
        assert to_lighthouse, f"{node.name}'s peers did not reach the lighthouse at the head's address"
        ice = [s for s in seen if s.protocol == "udp" and str(s.local) == node.address]
        assert ice, f"{node.name}'s peers had no ICE socket at the node's address"
    root = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout.split()
    assert not any(f"{node.address}/" in word for node in rehearsal.network.nodes for word in root)


async def test_a_peer_node_lost_mid_run_is_named_and_fails_the_run(rehearsal: Rehearsal, tmp_path: Path) -> None:
    victim = rehearsal.network.peers[0]
    nodes = peer_node_ids(rehearsal)
    run = await start_run(rehearsal, tmp_path, "--duration", "20")
    try:
        await until_every_peer_reported(run)
        rehearsal.kill(victim)
        code = await run.finish()
    finally:
        rehearsal.start(victim)  # back for the next test (as a new node; Ray declares the old one dead)
    assert code == 1, run.output

    document = results_document(tmp_path / "results")
    on_victim = {peer for peer, node_id in peers_by_node(document).items() if node_id == nodes[victim.address]}
    lost: dict[str, str] = document["metadata"]["lostPeers"]
    assert on_victim and set(lost) == on_victim
    assert all(f"on node {victim.address} (" in why for why in lost.values()), lost
    assert f"{len(on_victim)} peers lost when their host failed" in run.output
    assert f"on node {victim.address} (" in run.output


async def test_with_restart_hosts_a_lost_nodes_hosts_come_back_on_the_other(
    rehearsal: Rehearsal, tmp_path: Path
) -> None:
    victim, survivor = rehearsal.network.peers
    nodes = peer_node_ids(rehearsal)  # the node killed before is back, its old self declared dead
    run = await start_run(rehearsal, tmp_path, "--duration", "30", "--restart-hosts", "1")
    await until_every_peer_reported(run)
    rehearsal.kill(victim)
    assert await asyncio.wait_for(run.finish(), 200) == 0, run.output

    document = results_document(tmp_path / "results")
    node_of = peers_by_node(document)
    on_victim = {peer for peer, node_id in node_of.items() if node_id == nodes[victim.address]}
    restarted: dict[str, str] = document["metadata"]["restartedPeers"]
    assert on_victim and set(restarted) == on_victim and document["metadata"]["lostPeers"] == {}
    assert {node_of[new] for new in restarted.values()} == {nodes[survivor.address]}, "back on the other peer node"
