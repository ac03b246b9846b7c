"""Connecting to Ray: a running cluster when asked, else a local Ray bound to loopback only."""

from __future__ import annotations

import logging
import os
from typing import Any

import ray

log = logging.getLogger(__name__)

#: With this set to 0 in the environment of every Ray process, a local Ray binds all its ports to
#: 127.0.0.1 instead of the machine's interface (measured; `_node_ip_address` alone did not).
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def init_local_ray(
    num_cpus: int | None = None, resources: dict[str, float] | None = None, temp_dir: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Start (or reuse) a local, loopback-only Ray for this process and its workers."""
    os.environ.update(LOOPBACK_ENV)
    if ray.is_initialized():
        return dict(ray.get_runtime_context().get())
    context = ray.init(
        num_cpus=num_cpus,
        resources=resources,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=temp_dir,
        runtime_env={"env_vars": dict(LOOPBACK_ENV)},
        **kwargs,
    )
    address_info: dict[str, Any] = getattr(context, "address_info", {})
    log.info("local Ray started: %s", address_info.get("address"))
    return address_info
