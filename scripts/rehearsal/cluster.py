"""One rehearsal: the network, a token of its own, and Ray on every node; up whole or not at all.

`up` builds everything under a fresh prefix and, when any step fails, takes down what it made before
raising; it notes how it was built in the rehearsal's temp dir, so `load` finds it again (`exec`).
`down` ends a rehearsal's processes, deletes its namespaces and its temp dir; it is safe to repeat and
finds the leftovers of a rehearsal that died half-made by its prefix alone.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.rehearsal import netns, raynodes
from scripts.rehearsal.netns import Network, Node

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CLUSTER_YAML = REPO_ROOT / "cluster.yaml"
#: Lists the cluster's nodes: a driver of its own, run in the head's namespace.
NODES_SCRIPT = """
import json, sys, ray
ray.init(address=sys.argv[1], log_to_driver=False)
print(json.dumps([{"id": n["NodeID"], "address": n["NodeManagerAddress"], "alive": n["Alive"],
                   "resources": n["Resources"]} for n in ray.nodes()]))
"""


def temp_root(prefix: str) -> Path:
    """The rehearsal's folder: its token and each node's Ray temp dir (short: Ray's socket paths must fit)."""
    if not netns.PREFIX_PATTERN.match(prefix):
        raise ValueError(f"not a rehearsal: {prefix!r} (a rehearsal is {netns.PREFIX_STEM} and 6 hex digits)")
    return Path(tempfile.gettempdir()) / prefix


@dataclass(frozen=True)
class Rehearsal:
    """A rehearsal's network, its Ray start commands and the peer nodes' resources."""

    network: Network
    commands: raynodes.StartCommands
    peer_resources: dict[str, float]

    @property
    def prefix(self) -> str:
        return self.network.prefix

    @property
    def temp_dir(self) -> Path:
        return temp_root(self.prefix)

    @property
    def token_path(self) -> Path:
        return self.temp_dir / "auth_token"

    @property
    def plan_path(self) -> Path:
        return self.temp_dir / "rehearsal.json"

    @property
    def address(self) -> str:
        """The GCS address a driver joins (`--address`)."""
        return f"{self.network.head.address}:{self.commands.gcs_port}"

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a process on a node, from `base` (this process's by default)."""
        return raynodes.node_environment(os.environ if base is None else base, self.network.head, self.token_path)

    def start(self, node: Node) -> None:
        """Start Ray on `node` (again, after `kill`) with cluster.yaml's command for its role."""
        command = self.commands.head if node == self.network.head else self.commands.worker
        resources = None if node == self.network.head else self.peer_resources
        temp_dir = self.temp_dir / node.name
        raynodes.start_node(raynodes.local_command(command, node, temp_dir), node, self.environment(), resources)

    def kill(self, node: Node) -> None:
        """SIGKILL every process on `node`: the node is lost, as when a machine dies."""
        netns.kill_all([node.namespace], grace=0)

    def nodes(self) -> list[dict[str, Any]]:
        """The cluster's nodes as Ray's GCS sees them (id, address, alive, resources), asked from the head."""
        argv = raynodes.on_node(self.network.head, [sys.executable, "-c", NODES_SCRIPT, self.address])
        out = subprocess.run(argv, env=self.environment(), capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"could not list the cluster's nodes: {out.stderr[-2000:]}")
        found: list[dict[str, Any]] = json.loads(out.stdout.strip().splitlines()[-1])
        return found


def up(
    peer_nodes: int = 2,
    peer_slots: int | None = None,
    subnet: str = netns.DEFAULT_SUBNET,
    cluster_yaml: Path = CLUSTER_YAML,
) -> Rehearsal:
    """Build a rehearsal: namespaces, bridge, token, Ray on the head and then on each peer node."""
    commands = raynodes.read_start_commands(cluster_yaml)
    prefix = f"{netns.PREFIX_STEM}{secrets.token_hex(3)}"
    rehearsal = Rehearsal(
        netns.plan(prefix, peer_nodes, subnet), commands, raynodes.peer_resources(commands, peer_slots)
    )
    try:
        rehearsal.temp_dir.mkdir(mode=0o700)
        rehearsal.token_path.touch(mode=0o600)
        rehearsal.token_path.write_text(secrets.token_hex(32))
        rehearsal.plan_path.write_text(
            json.dumps({"peerNodes": peer_nodes, "subnet": subnet, "peerResources": rehearsal.peer_resources})
        )
        netns.create(rehearsal.network)
        for node in rehearsal.network.nodes:
            rehearsal.start(node)
    except BaseException:
        down(prefix)
        raise
    return rehearsal


def load(prefix: str, cluster_yaml: Path = CLUSTER_YAML) -> Rehearsal:
    """The rehearsal `up` built under `prefix` (from the plan it noted)."""
    path = temp_root(prefix) / "rehearsal.json"
    if not path.exists() or not netns.namespaces(prefix):
        raise LookupError(f"no rehearsal {prefix} on this machine (scripts/rehearse-cluster status lists them)")
    plan = json.loads(path.read_text())
    network = netns.plan(prefix, plan["peerNodes"], plan["subnet"])
    return Rehearsal(network, raynodes.read_start_commands(cluster_yaml), plan["peerResources"])


def rehearsals() -> list[str]:
    """Every rehearsal on this machine: by its namespaces or, half-made, by its temp dir."""
    folders = {entry.name for entry in Path(tempfile.gettempdir()).glob(f"{netns.PREFIX_STEM}*") if entry.is_dir()}
    return sorted({*netns.rehearsals(), *(name for name in folders if netns.PREFIX_PATTERN.match(name))})


def down(prefix: str) -> list[str]:
    """End rehearsal `prefix`'s processes, delete its namespaces and temp dir; returns the namespaces deleted."""
    folder = temp_root(prefix)  # checks the prefix first: nothing else is ever deleted
    deleted = netns.destroy(prefix)
    shutil.rmtree(folder, ignore_errors=True)
    return deleted
