"""Real layers packed in this process: an embedded lighthouse, a `PeerHost` of every peer, real aiortc.

This is how a peer host runs on a node (one event loop, its peers' routines on one tick loop), without
Ray around it, so its CPU is the peers' own. Each layer runs in a fresh process (`python -m
peerperf.sizing.packed_run`, one JSON line out), so no layer inherits another's memory or sockets.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer.settings import PeerSettings
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix
from peerperf.sizing import peer_settings_json
from peerperf.sizing.collecting_results import CollectingResults
from peerperf.sizing.layer_measurement import LayerMeasurement
from peerperf.sizing.measurement import measurement

#: Loggers that would print every ICE or connection detail of dozens of peers.
QUIET_LOGGERS = ("aioice", "aiortc", "aiohttp.access", "peerperf.peer", "peerperf.lighthouse")


@dataclass(frozen=True)
class PackedLayer:
    """Layers to run in one process: their size and number, the routine and peer settings, how long, the seed."""

    layer_size: int
    routine: str = "default"
    peer: PeerSettings = field(default_factory=PeerSettings)
    room_size: int | None = None
    #: Test length after the start (the steady state is what follows the analysis's warm-up).
    seconds: float = 30.0
    #: Seconds per datapoint, as the run's `--stats-interval`.
    stats_interval: float = 2.0
    seed: int = 1
    #: Layers of `layer_size` side by side (blue-1, blue-2, ...): more packets per process at the same layer size.
    layers: int = 1

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "peer": peer_settings_json.to_json(self.peer, secrets=True)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PackedLayer:
        return cls(**{**data, "peer": peer_settings_json.from_json(data["peer"])})


async def run_layer(layer: PackedLayer) -> LayerMeasurement:
    """Run the layers against an embedded lighthouse on loopback and measure their steady state."""
    peers = layer.layer_size * layer.layers
    population = Population(peers, parse_mix(layer.routine), room_size=layer.room_size, layer_size=layer.layer_size)
    lighthouse = LighthouseSettings(no_auth=True, port=0, max_per_layer=layer.layer_size)
    async with serving(create_app(lighthouse), "127.0.0.1", 0) as port:
        rng = random.Random(layer.seed)
        config = HostConfig(
            "packed",
            f"http://127.0.0.1:{port}",
            layer.peer,
            stats_interval=layer.stats_interval,
            seed=layer.seed,
            rooms=tuple(population.rooms()),
        )
        host = PeerHost(config, plan_peers(population, rng))
        try:
            report = await host.setup()
            if report.failed:
                raise RuntimeError(f"peers could not join: {report.failed}")
            results = CollectingResults()
            await host.run(results, "packed", layer.seconds, 10.0)
        finally:
            await host.shutdown()
    return measurement(layer.layer_size, results.points, layer.layers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peerperf.sizing.packed_run", description=__doc__)
    parser.add_argument("layer", help="the PackedLayer as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    layer = PackedLayer.from_json(json.loads(args.layer))
    import uvloop  # the loop peer hosts run on (Ray uses it when it is installed)

    result = uvloop.run(run_layer(layer))
    print(json.dumps(result.to_json()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
