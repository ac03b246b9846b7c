"""Local Ray is loopback-only: nodes, workers and listeners on 127.0.0.1 (checked, not trusted)."""

from __future__ import annotations

import os
from typing import Any

import ray

from peerperf import network
from tests.netwatch import loopback_only


def test_local_ray_runs_on_loopback(local_ray: dict[str, Any]) -> None:
    with loopback_only():
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}

        @ray.remote(num_cpus=0)
        def where() -> str:
            return str(ray.util.get_node_ip_address())

        assert ray.get(where.remote()) == "127.0.0.1"  # what peers offer as their ICE host address


def test_loopback_mode_is_set_before_ray_reads_it() -> None:
    assert network.mode() == network.LOOPBACK
    assert os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"
    assert os.environ["http_proxy"].startswith("http://127.0.0.1:")  # Ray's cloud probes stay local
    import ray._private.ray_constants as constants

    assert constants.ENABLE_RAY_CLUSTER is False
