"""Connecting to Ray (a running cluster when asked, else a local Ray bound to loopback only) and awaiting its calls."""

from __future__ import annotations

import logging
import os
from typing import Any

import ray

from peerperf.cluster.network_mode import check_ray_mode, confine_ray_process, ray_environment

log = logging.getLogger(__name__)


def init_local_ray(
    num_cpus: int | None = None, resources: dict[str, float] | None = None, temp_dir: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Start (or reuse) a local Ray for this process; loopback-only unless PEERPERF_NETWORK=cluster."""
    check_ray_mode()
    if ray.is_initialized():
        return dict(ray.get_runtime_context().get())
    confine_ray_process()
    context = ray.init(
        num_cpus=num_cpus,
        resources=resources,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=temp_dir,
        runtime_env={"env_vars": ray_environment()},
        **kwargs,
    )
    address_info: dict[str, Any] = getattr(context, "address_info", {})
    log.info("local Ray started: %s", address_info.get("address"))
    return address_info


def cluster_is_running() -> bool:
    """Whether `ray start --head` has left a cluster to join on this machine (or RAY_ADDRESS names one)."""
    return bool(os.environ.get("RAY_ADDRESS")) or os.path.exists("/tmp/ray/ray_current_cluster")


def connect(address: str | None, peer_slots: int, num_cpus: int | None = None, browser_slots: int = 0) -> bool:
    """Join `address`, or a running cluster, or start a local Ray; True when a local Ray was started.

    A local Ray advertises `peer_slots` and `browser_slots` so every peer and browser host fits on this one node.
    """
    check_ray_mode()
    if ray.is_initialized():
        return False
    confine_ray_process()
    if address or cluster_is_running():
        try:
            ray.init(address=address or "auto", runtime_env={"env_vars": ray_environment()})
            log.info("joined the Ray cluster at %s", address or "auto")
            return False
        except ConnectionError:
            if address:
                raise
            log.info("no running Ray cluster found; starting a local one")
    resources = {"peer_slot": float(peer_slots), "browser_slot": float(browser_slots)}
    init_local_ray(num_cpus=num_cpus, resources=resources, log_to_driver=False)
    return True


def logs_dir() -> str | None:
    """The folder of this Ray session's logs (peer hosts log to `worker-*.err` there), when Ray says."""
    try:
        from ray._private import worker  # no public API names the session's log folder

        node = worker._global_node
        return str(node.get_logs_dir_path()) if node is not None else None
    except (ImportError, AttributeError):
        return None


async def awaited(ref: Any) -> Any:
    """An actor call's `ObjectRef` as a coroutine (for `asyncio.wait_for`, `gather` and tasks)."""
    return await ref
