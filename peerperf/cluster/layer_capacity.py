"""How many peers go in a layer, and whether the lighthouse has room for them, settled before anything starts.

A layer holds at most the lighthouse's capacity (the original's `MAX_PER_LAYER`, 50 by default), so a
run spreads its peers over layers of `--layer-size` (default: that capacity) as the real network sends
users to another layer. An external lighthouse's capacity is read from its `GET /layers` answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from peerperf.config import RunConfig
from peerperf.errors import ConfigError, RunAborted
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.sim.population import Population
from peerperf.sim.routines import RoutineChoice

#: What a lighthouse that does not report its capacity is assumed to hold (the original's default).
ASSUMED_CAPACITY: int = LighthouseSettings.max_per_layer


@dataclass(frozen=True)
class LayerPlan:
    """The run's population with its layer size, and what the capacity was read from."""

    population: Population
    capacity: int
    #: Where `capacity` comes from, for the progress line ("the embedded lighthouse", "GET .../layers", ...).
    source: str


async def plan_layers(config: RunConfig, routines: list[RoutineChoice]) -> LayerPlan:
    """The population in layers of `--layer-size` (default: the capacity); a size above it is a ConfigError.

    With an external lighthouse this asks it for its capacity and for room in the layers the run fills.
    """
    if config.lighthouse_url is None:
        capacity, source = config.max_per_layer, "the embedded lighthouse (--max-per-layer)"
    else:
        reported = await read_capacity(config.lighthouse_url, config.layer)
        if reported is None:
            capacity = ASSUMED_CAPACITY
            source = f"assumed: {config.lighthouse_url}/layers reports no maxUsers"
        else:
            capacity, source = reported, f"{config.lighthouse_url}/layers"
        if config.layer_size is not None and config.layer_size > capacity:
            raise ConfigError(
                f"--layer-size {config.layer_size} is above the layer capacity of the lighthouse at "
                f"{config.lighthouse_url} ({capacity}, {source}): it would refuse peer {capacity + 1} of every "
                f"layer; use --layer-size {capacity} or less"
            )
    population = Population(
        config.peers,
        routines,
        config.layer,
        config.room,
        config.room_size,
        config.peer_id_length,
        config.layer_size or capacity,
    )
    if config.lighthouse_url is not None:
        await check_layer_room(config.lighthouse_url, population)
    return LayerPlan(population, capacity, source)


async def read_capacity(lighthouse_url: str, layer: str) -> int | None:
    """The lighthouse's layer capacity from `GET /layers` (the `layer` entry's `maxUsers`, else the largest
    any layer reports); None when it reports none."""
    listed = await _get_json(lighthouse_url, "/layers")
    if not isinstance(listed, list):
        raise RunAborted(f"the lighthouse at {lighthouse_url} answered GET /layers with {str(listed)[:200]}")
    reported = {
        str(entry.get("name")): entry["maxUsers"]
        for entry in listed
        if isinstance(entry, dict) and isinstance(entry.get("maxUsers"), int) and entry["maxUsers"] > 0
    }
    if layer in reported:
        return int(reported[layer])
    return max(reported.values()) if reported else None


async def check_layer_room(lighthouse_url: str, population: Population) -> None:
    """RunAborted when a layer has less room than the run puts in it (others may be in it already),
    instead of failing peers one by one."""
    wanted = Counter(population.layer_of(index) for index in range(population.peers))
    for layer_id, count in wanted.items():
        layer = await _get_json(lighthouse_url, f"/layers/{layer_id}", missing_ok=True)
        if layer is None:
            continue  # not there yet: created with the lighthouse's capacity
        free = int(layer.get("maxUsers", 0)) - int(layer.get("usersCount", 0))
        if count > free:
            raise RunAborted(
                f"layer {layer_id!r} has room for {free} more peers (maxUsers {layer.get('maxUsers')}), but "
                f"the run needs {count}; use a smaller --layer-size or fewer peers, or free the layer"
            )


async def _get_json(lighthouse_url: str, path: str, missing_ok: bool = False) -> Any:
    """A GET of the lighthouse's API; None for a 404 when `missing_ok`; RunAborted for any other refusal."""
    url = f"{lighthouse_url.rstrip('/')}{path}"
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            if resp.status == 404 and missing_ok:
                return None
            if resp.status != 200:
                raise RunAborted(
                    f"the lighthouse at {lighthouse_url} answered GET {path} with {resp.status}: "
                    f"{(await resp.text())[:200]}"
                )
            return await resp.json(content_type=None)
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise RunAborted(f"cannot reach the lighthouse at {lighthouse_url}: {exc}") from exc
