"""Ray on the rehearsal's nodes, started with cluster.yaml's own start commands.

The `ray start` command of `head_start_ray_commands` runs in the head's namespace and the one of
`worker_start_ray_commands` in each peer node's, through bash, with the environment Ray's cluster
launcher gives them: `RAY_HEAD_IP` (the head's address), `RAY_OVERRIDE_RESOURCES` (the node type's
`resources`: `peer_slot` on peer nodes only) and, from the docker `run_options`, `PEERPERF_NETWORK=cluster`.
Only what a cloud node has and one machine lacks is changed in the command text (`ray_start`):
no autoscaler (`--autoscaling-config` dropped: the launcher writes that file on a cloud head), and each
node is told its address and a temp dir of the rehearsal's own. cluster.yaml's `ray stop` is not
run: on one machine it would stop every Ray process, not one node's; a node is stopped by ending
the processes in its namespace. The token of Ray's token authentication is the rehearsal's own
(`RAY_AUTH_TOKEN_PATH`), never the machine's `~/.ray/auth_token`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from peerperf.cluster.network_mode import CLUSTER, NETWORK_ENV, PROXY_ENV, RAY_LOOPBACK_ENV
from peerperf.cluster.peerhost_actor import PEER_SLOT
from scripts.rehearsal.netns import Node

#: The part of a start command that starts Ray (cluster.yaml's other commands are `ray stop`).
RAY_START = "ray start"
#: The head's autoscaler config, written by the cluster launcher on a cloud head; there is no autoscaler here.
AUTOSCALING_CONFIG = re.compile(r"\s--autoscaling-config[= ]\S+")
GCS_PORT = re.compile(r"--port[= ](\d+)")
#: Ray's start-up timeout for one node.
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class StartCommands:
    """cluster.yaml's `ray start` commands and its peer node type's resources."""

    head: str
    worker: str
    peer_resources: dict[str, float]

    @property
    def gcs_port(self) -> int:
        match = GCS_PORT.search(self.head)
        if match is None:
            raise ValueError(f"cluster.yaml's head start command names no --port: {self.head}")
        return int(match[1])


def read_start_commands(cluster_yaml: Path) -> StartCommands:
    """The `ray start` commands of cluster.yaml's head and workers, and the peer node type's resources."""
    config: dict[str, Any] = yaml.safe_load(cluster_yaml.read_text())
    head_type = config["head_node_type"]
    peer_types = [t for name, t in config["available_node_types"].items() if name != head_type]
    if len(peer_types) != 1:
        raise ValueError(f"cluster.yaml should have one peer node type besides the head, not {len(peer_types)}")
    return StartCommands(
        _the_start(config["head_start_ray_commands"], "head_start_ray_commands"),
        _the_start(config["worker_start_ray_commands"], "worker_start_ray_commands"),
        dict(peer_types[0]["resources"]),
    )


def _the_start(commands: list[str], key: str) -> str:
    starts = [command for command in commands if RAY_START in command]
    if len(starts) != 1:
        raise ValueError(f"cluster.yaml's {key} should have one `{RAY_START}` command, not {len(starts)}")
    return starts[0]


def local_command(command: str, node: Node, temp_dir: Path) -> str:
    """cluster.yaml's `command` as this machine runs it: no autoscaler config, the node's address and temp dir."""
    local = AUTOSCALING_CONFIG.sub("", command)
    return f"{local} --node-ip-address={node.address} --temp-dir={shlex.quote(str(temp_dir))}"


def peer_resources(commands: StartCommands, peer_slots: int | None) -> dict[str, float]:
    """The peer node type's resources, with `peer_slot` overridden when asked (one machine holds fewer)."""
    return {**commands.peer_resources, **({PEER_SLOT: float(peer_slots)} if peer_slots is not None else {})}


def node_environment(base: Mapping[str, str], head: Node, token_path: Path) -> dict[str, str]:
    """The environment of a process on a node (Ray's own and a driver's): cluster mode, the rehearsal's token.

    Ray's loopback switch and peerperf's loopback proxy variables are dropped (a shell that ran
    peerperf in loopback mode has them; gRPC would send the cluster's traffic to that proxy), and so
    is any other proxy: nothing in a node's namespace can reach one.
    """
    env = {key: value for key, value in base.items() if key not in {*RAY_LOOPBACK_ENV, *PROXY_ENV, "RAY_ADDRESS"}}
    env.pop("RAY_AUTH_TOKEN", None)  # the token comes from the rehearsal's file, as from ~/.ray/auth_token
    python_bin = str(Path(sys.executable).parent)
    env.update(
        {
            NETWORK_ENV: CLUSTER,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": str(token_path),
            "RAY_HEAD_IP": head.address,
            "PATH": f"{python_bin}{os.pathsep}{env.get('PATH', os.defpath)}",
        }
    )
    return env


def on_node(node: Node, argv: list[str]) -> list[str]:
    """`argv` run inside `node`'s namespace."""
    return ["ip", "netns", "exec", node.namespace, *argv]


def start_node(command: str, node: Node, env: Mapping[str, str], resources: dict[str, float] | None = None) -> str:
    """Run a start command in `node`'s namespace (Ray daemonizes; this returns once the node is up).

    `resources` go where the launcher puts a node type's: `RAY_OVERRIDE_RESOURCES`. Returns Ray's output.
    """
    node_env = {**env, **({"RAY_OVERRIDE_RESOURCES": json.dumps(resources)} if resources else {})}
    result = subprocess.run(
        on_node(node, ["bash", "-c", command]),
        env=node_env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        start_new_session=True,  # Ray's daemons stay out of the caller's process group (its Ctrl-C)
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"Ray did not start on {node.name} ({node.address}):\n{output[-3000:]}")
    return output
