"""Refuse a run up front when an external lighthouse's layer cannot hold its peers."""

from __future__ import annotations

from collections import Counter

import aiohttp

from peerperf.cluster.run_aborted import RunAborted
from peerperf.sim.population import Population


async def check_layer_capacity(lighthouse_url: str, population: Population) -> None:
    """RunAborted when a layer has less room than the run puts in it, instead of failing peers one by one."""
    wanted = Counter(population.layer_of(index) for index in range(population.peers))
    async with aiohttp.ClientSession() as http:
        for layer_id, count in wanted.items():
            try:
                async with http.get(f"{lighthouse_url.rstrip('/')}/layers/{layer_id}") as resp:
                    if resp.status == 404:
                        continue  # not there yet: created with the lighthouse's capacity
                    if resp.status != 200:
                        raise RunAborted(
                            f"the lighthouse at {lighthouse_url} answered GET /layers/{layer_id} with "
                            f"{resp.status}: {(await resp.text())[:200]}"
                        )
                    layer = await resp.json(content_type=None)
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                raise RunAborted(f"cannot reach the lighthouse at {lighthouse_url}: {exc}") from exc
            free = int(layer.get("maxUsers", 0)) - int(layer.get("usersCount", 0))
            if count > free:
                raise RunAborted(
                    f"layer {layer_id!r} has room for {free} more peers (maxUsers {layer.get('maxUsers')}), but "
                    f"the run needs {count}; raise the lighthouse's MAX_PER_LAYER, use --layer-size, or use "
                    f"fewer peers"
                )
