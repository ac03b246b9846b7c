"""A real autoscaling run on this machine: Ray's fake multi-node provider with cluster.yaml's node types.

The head has no peer_slot; peer nodes (min_workers 0) carry cluster.yaml's peer_slot sizing, capped at
`FAKE_PEER_SLOTS` (a node sized for 16 vCPUs holds hundreds of peers; this machine runs a dozen). A run
with one peer host more than one node holds makes the autoscaler launch two peer nodes, the peers
land on them (the datapoints' node ids say so), the test completes with every peer's datapoints,
and the nodes go away afterwards. Only this cluster's processes are ended, never `ray stop --force`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerperf.cluster.peerhost_actor import PEER_SLOT
from tests.cluster.fakecluster import FakeCluster, load_cluster_config
from tests.conftest import REPO_ROOT
from tests.netwatch import loopback_only
from tests.runcli import Run, results_document

CLUSTER_YAML = REPO_ROOT / "cluster.yaml"
PEERS_PER_ACTOR = 4
#: The most peers a fake peer node holds.
FAKE_PEER_SLOTS = 8
NODES_SCRIPT = """
import peerperf, json, sys, ray
peerperf.cluster.network_mode.confine_ray_process()  # a driver joining Ray: its start-up probes stay on loopback
ray.init(address=sys.argv[1], log_to_driver=False)
print(json.dumps([{"id": n["NodeID"], "alive": n["Alive"], "slots": n["Resources"].get("peer_slot", 0)}
                  for n in ray.nodes()]))
"""


@pytest.fixture(scope="module")
def fake_cluster() -> Iterator[FakeCluster]:
    temp_dir = Path("/tmp") / f"pp-fake-{uuid.uuid4().hex[:8]}"
    cluster = FakeCluster(CLUSTER_YAML, temp_dir, max_nodes_per_type=3, peer_slot_cap=FAKE_PEER_SLOTS)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
    assert cluster.processes() == [], "the fake cluster left processes behind"


def nodes(cluster: FakeCluster) -> list[dict[str, Any]]:
    """The cluster's nodes, seen by a separate driver (Ray's auth mode is fixed when ray is imported)."""
    out = subprocess.run(
        [sys.executable, "-c", NODES_SCRIPT, cluster.address],
        env={**os.environ, **cluster.auth_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: list[dict[str, Any]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def test_a_run_makes_the_autoscaler_add_peer_nodes(fake_cluster: FakeCluster, tmp_path: Path) -> None:
    slots = min(
        load_cluster_config(CLUSTER_YAML)["available_node_types"]["peer"]["resources"][PEER_SLOT], FAKE_PEER_SLOTS
    )
    hosts = slots // PEERS_PER_ACTOR + 1  # one host more than a node holds: two peer nodes needed
    peers = hosts * PEERS_PER_ACTOR
    assert [n for n in nodes(fake_cluster) if n["alive"] and n["slots"]] == []  # no peer nodes before
    with loopback_only():
        run = await Run.start(
            "--address",
            fake_cluster.address,
            "--peers",
            str(peers),
            "--peers-per-actor",
            str(PEERS_PER_ACTOR),
            "--layer-size",
            "5",
            "--duration",
            "8",
            "--output",
            str(tmp_path),
            "--ready-timeout",
            "180",
            env=fake_cluster.auth_env,
        )
        assert await run.finish() == 0, run.output
    assert "placing peer hosts" in run.output
    document = results_document(tmp_path)
    assert len({p["peerId"] for p in document["dataPoints"]}) == peers
    used = {p["metrics"]["nodeId"] for p in document["dataPoints"]}
    peer_nodes = {n["id"] for n in nodes(fake_cluster) if n["slots"]}
    assert len(used) >= 2 and used <= peer_nodes, "peers ran on the autoscaled peer nodes, not the head"

    deadline = time.monotonic() + 120  # idle peer nodes are terminated (idle_timeout 0.1 min)
    while any(n["alive"] and n["slots"] for n in nodes(fake_cluster)):
        assert time.monotonic() < deadline, "peer nodes were not scaled down after the run"
        await asyncio.sleep(2)
