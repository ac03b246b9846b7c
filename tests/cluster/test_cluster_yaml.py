"""cluster.yaml passes Ray's own validation, offline; a mistyped key fails it; its sizing holds."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ray
from ray.autoscaler._private.util import prepare_config, validate_config

from peerperf.cluster.peerhost_actor import PEER_SLOT
from tests.cluster.fakecluster import FAKE_HEAD_TYPE, fake_autoscaling_config, load_cluster_config
from tests.conftest import REPO_ROOT
from tests.metricsdb import influxd

CLUSTER_YAML = REPO_ROOT / "cluster.yaml"


@pytest.fixture
def cluster() -> dict[str, Any]:
    return load_cluster_config(CLUSTER_YAML)


def validate(config: dict[str, Any]) -> None:
    validate_config(prepare_config(copy.deepcopy(config)))


def test_ray_validates_the_cluster_config_offline(cluster: dict[str, Any]) -> None:
    validate(cluster)


def rename(path: list[str], new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        node = config
        for key in path[:-1]:
            node = node[key]
        node[new] = node.pop(path[-1])

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        rename(["max_workers"], "max_worker"),
        rename(["available_node_types", "peer", "min_workers"], "min_worker"),
        rename(["available_node_types", "peer", "resources"], "resourses"),
        rename(["available_node_types", "head", "node_config"], "node_configs"),
        rename(["head_node_type"], "head_node"),
        rename(["provider", "type"], "typ"),
    ],
    ids=["max_worker", "min_worker", "resourses", "node_configs", "head_node", "typ"],
)
def test_a_mistyped_key_fails_validation(cluster: dict[str, Any], mutate: Callable[[dict[str, Any]], None]) -> None:
    mutate(cluster)
    with pytest.raises(Exception):  # noqa: B017 - Ray raises jsonschema, KeyError or ValueError by key
        validate(cluster)


def test_head_takes_no_peers_and_peer_nodes_cover_a_thousand(cluster: dict[str, Any]) -> None:
    types = cluster["available_node_types"]
    head = types[cluster["head_node_type"]]
    assert PEER_SLOT not in head.get("resources", {}) and head["max_workers"] == 0
    peer_types = [t for name, t in types.items() if name != cluster["head_node_type"]]
    assert peer_types and all(t["min_workers"] == 0 and t["resources"][PEER_SLOT] >= 1 for t in peer_types)
    capacity = sum(t["max_workers"] * t["resources"][PEER_SLOT] for t in peer_types)
    assert capacity >= 1000 and cluster["max_workers"] >= sum(t["max_workers"] for t in peer_types)


def test_versions_auth_limits_and_no_secrets(cluster: dict[str, Any]) -> None:
    image = cluster["docker"]["image"]
    assert image == f"rayproject/ray:{ray.__version__}-py{sys.version_info.major}{sys.version_info.minor}-cpu"
    starts = cluster["head_start_ray_commands"] + cluster["worker_start_ray_commands"]
    started = [c for c in starts if "ray start" in c]
    assert len(started) == 2 and all("RAY_AUTH_MODE=token" in c and "ulimit -n" in c for c in started)
    assert "~/.ray/auth_token" in cluster["file_mounts"]
    assert any("nofile" in option for option in cluster["docker"]["run_options"])
    assert "--env PEERPERF_NETWORK=cluster" in cluster["docker"]["run_options"]  # nodes use the VPC, not loopback
    text = CLUSTER_YAML.read_text()
    assert not re.search(r"\b\d{12}\b", text), "no AWS account ids"
    assert not re.search(r"(?i)aws_access_key|aws_secret|BEGIN .*PRIVATE KEY", text), "no credentials"


def test_the_fake_cluster_keeps_the_real_node_types(cluster: dict[str, Any]) -> None:
    fake = fake_autoscaling_config(cluster, "127.0.0.1:1", max_nodes_per_type=3)
    peer = fake["available_node_types"]["peer"]
    assert peer["resources"][PEER_SLOT] == cluster["available_node_types"]["peer"]["resources"][PEER_SLOT]
    assert peer["min_workers"] == 0 and peer["max_workers"] == 3
    assert PEER_SLOT not in fake["available_node_types"][FAKE_HEAD_TYPE]["resources"]
    validate_config(fake)  # complete already (prepare_config would look for the wheel's missing defaults)


def _commented_head_commands() -> list[str]:
    text = (REPO_ROOT / "cluster.yaml").read_text()
    section = text.split("head_setup_commands: []\n", 1)[1]
    return [line[len("#  - ") :] for line in section.splitlines() if line.startswith("#  - ")]


@pytest.mark.influx
def test_the_commented_influxdb_commands_are_the_docs_and_create_the_database(tmp_path: Path) -> None:
    commands = _commented_head_commands()
    live_view = (REPO_ROOT / "docs" / "usage" / "live-view.md").read_text()
    block = re.search(r"## On a cluster\n.*?```bash\n(.*?)```", live_view, re.S)
    assert block and commands == block[1].splitlines()
    # The config they start InfluxDB with is the one every test InfluxDB runs from: loopback, no reporting.
    config = tomllib.loads((REPO_ROOT / "deploy" / "influxdb.conf").read_text())
    assert config["reporting-disabled"] is True
    assert config["bind-address"].startswith("127.0.0.1:") and config["http"]["bind-address"] == "127.0.0.1:8086"
    assert "~/peerperf/deploy/influxdb.conf" in commands[1]
    # The database command works against a real InfluxDB started from that config (without `comms`).
    with influxd(tmp_path, create_database=False) as daemon:
        assert not any(row["name"] == "comms" for row in daemon.rows("SHOW DATABASES"))
        subprocess.run(["bash", "-c", commands[2].replace(":8086", f":{daemon.url.rsplit(':', 1)[1]}")], check=True)
        assert any(row["name"] == "comms" for row in daemon.rows("SHOW DATABASES"))
