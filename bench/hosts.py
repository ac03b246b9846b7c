"""Shared by the Ray benchmarks: a local loopback-only Ray, an embedded lighthouse, peer-host actors
that can report their process, and bare actors to compare them with."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import peerperf  # noqa: F401  (before ray: loopback-only Ray)

# isort: split
import ray
from idle_actor import IdleActor

from peerperf.cluster.peerhost_actor import PeerHostWorker
from peerperf.cluster.runtime import init_local_ray
from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import PeerSettings
from peerperf.sim.host_config import HostConfig
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix

HEAVY_MODULES = ("pyarrow", "pandas", "numpy", "pydantic", "aiortc", "av")


def uss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_full_info().uss) / 2**20


class MeasuredPeerHost(PeerHostWorker):
    """The real peer-host actor, plus what a benchmark needs to know about its process."""

    async def pid(self) -> int:
        return os.getpid()

    async def loop(self) -> str:
        """The module of the actor's event loop class: "uvloop" or "asyncio.unix_events"."""
        return type(asyncio.get_running_loop()).__module__

    async def heavy_imports(self) -> list[str]:
        return [name for name in HEAVY_MODULES if name in sys.modules]

    async def channels_open(self) -> list[int]:
        return [len(sim.peer.connected_ids()) for sim in self.host.sims]


@contextlib.asynccontextmanager
async def ray_and_lighthouse(peer_slots: int) -> AsyncIterator[str]:
    """A local Ray (loopback only, its own temp dir) and a lighthouse served on this event loop."""
    with tempfile.TemporaryDirectory(prefix="pp-bench-", dir="/tmp") as folder:
        init_local_ray(num_cpus=2, resources={"peer_slot": peer_slots}, temp_dir=folder, log_to_driver=False)
        try:
            settings = LighthouseSettings(no_auth=True, port=0, max_per_layer=1000)
            async with serving(create_app(settings), "127.0.0.1", 0) as port:
                yield f"http://127.0.0.1:{port}"
        finally:
            ray.shutdown()


def spawn_host(lighthouse: str, layer: str, peers: int, seed: int) -> Any:
    """A peer-host actor for `peers` peers of one room, placed as the orchestrator places them."""
    specs = plan_peers(Population(peers, parse_mix("idle"), layer=layer), random.Random(seed))
    config = HostConfig(f"{layer}-{seed}", lighthouse, PeerSettings(), seed=seed)
    remote = ray.remote(MeasuredPeerHost)
    return remote.options(num_cpus=0, resources={"peer_slot": peers}, max_concurrency=64).remote(config, specs)


def spawn_idle() -> Any:
    return ray.remote(IdleActor).options(num_cpus=0).remote()


async def until_channels_open(hosts: list[Any], per_peer: int, timeout: float = 120) -> None:
    """Poll until every peer of every host has `per_peer` open data channels."""
    deadline = time.monotonic() + timeout
    while True:
        counts = [c for counts in await asyncio.gather(*(h.channels_open.remote() for h in hosts)) for c in counts]
        if counts and min(counts) >= per_peer:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"data channels per peer after {timeout} s: {counts}")
        await asyncio.sleep(0.1)


async def stop(hosts: list[Any], others: list[Any] = ()) -> None:  # type: ignore[assignment]
    """Dispose the hosts' peers, then end every actor given."""
    await asyncio.gather(*(h.shutdown.remote() for h in hosts))
    for actor in [*hosts, *others]:
        ray.kill(actor)
