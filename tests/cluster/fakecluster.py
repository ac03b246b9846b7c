"""A real autoscaling Ray cluster on one machine, built from `cluster.yaml`'s own node types.

Ray's fake multi-node provider launches "nodes" as local raylets when the autoscaler asks for them,
so `cluster.yaml`'s head and peer node types (their resources and `peer_slot` sizing) can be
exercised without a cloud. Ray's `AutoscalingCluster` helper cannot be used: in Ray 2.60 it fails
at construction (the wheel lacks its base config) and it runs `ray stop --force`, which kills every
Ray process on the machine. This one supplies the base config itself and ends only the processes it
started (found by its own temp directory).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from peerperf.cluster.network_mode import check_ray_mode, ray_environment
from peerperf.cluster.peerhost_actor import PEER_SLOT

log = logging.getLogger(__name__)

#: The head's node type name the fake provider expects.
FAKE_HEAD_TYPE = "ray.head.default"


def load_cluster_config(path: str | Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(Path(path).read_text())
    return config


def fake_autoscaling_config(
    cluster: dict[str, Any],
    gcs_address: str,
    max_nodes_per_type: int,
    idle_timeout_minutes: float = 0.1,
    cpus_per_node: int = 1,
    peer_slot_cap: int | None = None,
) -> dict[str, Any]:
    """The autoscaling config of a fake cluster whose node types are `cluster`'s.

    Each node type keeps its custom resources (`peer_slot` sizing, at most `peer_slot_cap` when given: a
    node sized for 16 vCPUs holds more peers than this machine runs) and min_workers; max_workers is
    capped to what one machine can run, and every node advertises `cpus_per_node` CPUs.
    """
    types: dict[str, Any] = {}
    head_name = cluster["head_node_type"]
    for name, node_type in cluster["available_node_types"].items():
        resources = {**copy.deepcopy(node_type.get("resources", {})), "CPU": cpus_per_node}
        if peer_slot_cap is not None and PEER_SLOT in resources:
            resources[PEER_SLOT] = min(resources[PEER_SLOT], peer_slot_cap)
        if name == head_name:
            types[FAKE_HEAD_TYPE] = {"resources": resources, "node_config": {}, "max_workers": 0}
        else:
            types[name] = {
                "resources": resources,
                "node_config": {},
                "min_workers": node_type.get("min_workers", 0),
                "max_workers": min(node_type.get("max_workers", 1), max_nodes_per_type),
            }
    return {
        "cluster_name": f"{cluster['cluster_name']}-fake",
        "max_workers": max_nodes_per_type * (len(types) - 1),
        "provider": {
            "type": "fake_multinode",
            "use_node_id_as_ip": True,
            "disable_node_updaters": True,
            "disable_launch_config_check": True,
            "gcs_address": gcs_address,
        },
        "available_node_types": types,
        "head_node_type": FAKE_HEAD_TYPE,
        "auth": {},
        "upscaling_speed": cluster.get("upscaling_speed", 1.0),
        "idle_timeout_minutes": idle_timeout_minutes,
        "docker": {},
        "initialization_commands": [],
        "setup_commands": [],
        "head_setup_commands": [],
        "worker_setup_commands": [],
        "head_start_ray_commands": [],
        "worker_start_ray_commands": [],
        "file_mounts": {},
        "cluster_synced_files": [],
        "file_mounts_sync_continuously": False,
        "rsync_exclude": [],
        "rsync_filter": [],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeCluster:
    """Start with `start()`, join at `address`, end with `stop()` (only this cluster's processes)."""

    def __init__(
        self,
        cluster_yaml: str | Path,
        temp_dir: str | Path,
        max_nodes_per_type: int = 3,
        peer_slot_cap: int | None = None,
    ) -> None:
        self.temp_dir = Path(temp_dir)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        cluster = load_cluster_config(cluster_yaml)
        self.config = fake_autoscaling_config(cluster, self.address, max_nodes_per_type, peer_slot_cap=peer_slot_cap)
        #: Token authentication on, with this cluster's own token: every process that joins it (drivers
        #: included) needs `auth_env` in its environment, as cluster.yaml's nodes share ~/.ray/auth_token.
        self.auth_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}

    def start(self) -> None:
        check_ray_mode()
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.temp_dir / "autoscaling.json"
        config_path.write_text(json.dumps(self.config))
        head = self.config["available_node_types"][FAKE_HEAD_TYPE]["resources"]
        custom = {k: v for k, v in head.items() if k != "CPU"}
        env = {
            **os.environ,
            **ray_environment(),
            **self.auth_env,
            "RAY_FAKE_CLUSTER": "1",
            "AUTOSCALER_UPDATE_INTERVAL_S": "1",
        }
        env.pop("RAY_ADDRESS", None)
        ray_cli = str(Path(sys.executable).parent / "ray")
        subprocess.run(
            [
                ray_cli,
                "start",
                "--head",
                f"--port={self.port}",
                "--node-ip-address=127.0.0.1",
                f"--temp-dir={self.temp_dir}",
                f"--autoscaling-config={config_path}",
                f"--num-cpus={int(head['CPU'])}",
                f"--resources={json.dumps(custom)}",
                "--include-dashboard=false",
                "--disable-usage-stats",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def processes(self) -> list[int]:
        """Pids of this cluster's processes: those whose command line names its temp dir or GCS port."""
        markers = (str(self.temp_dir), f"127.0.0.1:{self.port}", f"--gcs-address=127.0.0.1:{self.port}")
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(marker in cmdline for marker in markers):
                pids.append(int(entry.name))
        return pids

    def stop(self, term_grace: float = 3.0, timeout: float = 30.0) -> None:
        """End this cluster's processes only (never `ray stop --force`).

        SIGTERM first, SIGKILL after `term_grace` s: the gcs_server, raylet and autoscaler monitor that
        `ray start` left were seen to outlive SIGTERM for 35 s (all three), so a longer grace only waits.
        """
        for sig, wait in ((signal.SIGTERM, term_grace), (signal.SIGKILL, timeout)):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while self.processes() and time.monotonic() < deadline:
                time.sleep(0.2)
            if not self.processes():
                return
        log.warning("fake cluster processes still alive: %s", self.processes())
