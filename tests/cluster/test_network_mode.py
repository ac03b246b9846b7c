"""Local Ray is loopback-only: nodes, workers and listeners on 127.0.0.1 (checked, not trusted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import ray

from peerperf.cluster import network_mode
from tests.netwatch import loopback_only


def test_local_ray_runs_on_loopback(local_ray: dict[str, Any]) -> None:
    with loopback_only():
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}

        @ray.remote(num_cpus=0)
        def where() -> str:
            return str(ray.util.get_node_ip_address())

        assert ray.get(where.remote()) == "127.0.0.1"  # what peers offer as their ICE host address


def test_loopback_mode_is_set_before_ray_reads_it() -> None:
    assert network_mode.mode() == network_mode.LOOPBACK
    assert os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"
    import ray._private.ray_constants as constants

    assert constants.ENABLE_RAY_CLUSTER is False


def test_the_driver_and_rays_workers_get_the_loopback_proxy(local_ray: dict[str, Any]) -> None:
    assert os.environ["http_proxy"] == os.environ["HTTPS_PROXY"] == "http://127.0.0.1:9"  # set by init_local_ray

    @ray.remote(num_cpus=0)
    def proxies() -> dict[str, str | None]:
        return {key: os.environ.get(key) for key in network_mode.PROXY_ENV}

    assert ray.get(proxies.remote()) == network_mode.PROXY_ENV  # Ray's cloud probes stay local in workers too


PROXY_SCRIPT = """
import json, os
import peerperf, peerperf.peer, peerperf.protocol.signaling_frames, peerperf.results.client
print(json.dumps({key: os.environ.get(key) for key in sorted(peerperf.cluster.network_mode.PROXY_ENV)}))
"""


def test_import_peerperf_leaves_the_proxy_variables_alone() -> None:
    """A program that only wants the protocol or the peer library keeps its own HTTP proxy."""
    theirs = {key: f"http://proxy.example.invalid:3128/{key}" for key in network_mode.PROXY_ENV}
    env = {k: v for k, v in os.environ.items() if k not in network_mode.PROXY_ENV} | theirs
    out = subprocess.run(
        [sys.executable, "-c", PROXY_SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == dict(sorted(theirs.items()))
