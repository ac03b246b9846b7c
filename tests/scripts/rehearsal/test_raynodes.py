"""The rehearsal starts Ray with cluster.yaml's own commands, changed only where one machine differs."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
import yaml

from peerperf.cluster.network_mode import PROXY_ENV, RAY_LOOPBACK_ENV
from peerperf.cluster.peerhost_actor import PEER_SLOT
from scripts.rehearsal import raynodes
from scripts.rehearsal.netns import Node
from tests.conftest import REPO_ROOT

CLUSTER_YAML = REPO_ROOT / "cluster.yaml"
HEAD = Node("head", "ppr000000-head", "10.77.0.1")
PEER = Node("peer1", "ppr000000-peer1", "10.77.0.2")


def words(command: str) -> list[str]:
    return shlex.split(command)


def test_the_commands_are_cluster_yamls_ray_start_commands() -> None:
    config = yaml.safe_load(CLUSTER_YAML.read_text())
    commands = raynodes.read_start_commands(CLUSTER_YAML)
    assert commands.head in config["head_start_ray_commands"] and "--head" in words(commands.head)
    assert commands.worker in config["worker_start_ray_commands"] and "--address=$RAY_HEAD_IP:6379" in commands.worker
    assert commands.peer_resources == config["available_node_types"]["peer"]["resources"]
    assert commands.gcs_port == 6379


@pytest.mark.parametrize("role", ["head", "worker"])
def test_a_local_command_is_cluster_yamls_less_the_autoscaler_plus_address_and_temp_dir(role: str) -> None:
    commands = raynodes.read_start_commands(CLUSTER_YAML)
    original = commands.head if role == "head" else commands.worker
    node = HEAD if role == "head" else PEER
    local = raynodes.local_command(original, node, Path("/tmp/ppr000000") / node.name)
    expected = [w for w in words(original) if not w.startswith("--autoscaling-config")]
    assert words(local) == [*expected, f"--node-ip-address={node.address}", f"--temp-dir=/tmp/ppr000000/{node.name}"]
    # Everything that makes a node a cluster.yaml node stays: token auth, the file limit, ports, no usage stats.
    for kept in ("RAY_AUTH_MODE=token", "ulimit", "--object-manager-port=8076", "--disable-usage-stats"):
        assert kept in local


def test_peer_slots_override_only_the_peer_slot() -> None:
    commands = raynodes.StartCommands("ray start --head --port=6379", "ray start", {PEER_SLOT: 16.0, "other": 1.0})
    assert raynodes.peer_resources(commands, None) == {PEER_SLOT: 16.0, "other": 1.0}
    assert raynodes.peer_resources(commands, 4) == {PEER_SLOT: 4.0, "other": 1.0}


def test_a_cluster_yaml_without_exactly_one_ray_start_is_refused(tmp_path: Path) -> None:
    config = yaml.safe_load(CLUSTER_YAML.read_text())
    config["worker_start_ray_commands"] = ["ray stop"]
    broken = tmp_path / "cluster.yaml"
    broken.write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match="worker_start_ray_commands should have one `ray start` command, not 0"):
        raynodes.read_start_commands(broken)
    commands = raynodes.StartCommands("ray start --head", "ray start", {})
    with pytest.raises(ValueError, match="names no --port"):
        _ = commands.gcs_port


def test_a_nodes_environment_is_cluster_mode_with_the_rehearsals_token() -> None:
    base = {
        **RAY_LOOPBACK_ENV,  # a shell that ran peerperf in loopback mode
        **PROXY_ENV,
        "RAY_ADDRESS": "127.0.0.1:6379",
        "RAY_AUTH_TOKEN": "the-machines-token",
        "PATH": "/usr/bin",
        "HOME": "/root",
    }
    env = raynodes.node_environment(base, HEAD, Path("/tmp/ppr000000/auth_token"))
    assert not set(RAY_LOOPBACK_ENV) & set(env) and not set(PROXY_ENV) & set(env)
    assert "RAY_ADDRESS" not in env and "RAY_AUTH_TOKEN" not in env
    assert env["PEERPERF_NETWORK"] == "cluster" and env["RAY_AUTH_MODE"] == "token"
    assert env["RAY_AUTH_TOKEN_PATH"] == "/tmp/ppr000000/auth_token" and env["RAY_HEAD_IP"] == HEAD.address
    assert env["PATH"] == f"{Path(sys.executable).parent}:/usr/bin" and env["HOME"] == "/root"
    assert raynodes.on_node(PEER, ["ray", "status"]) == ["ip", "netns", "exec", PEER.namespace, "ray", "status"]
