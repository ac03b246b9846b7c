"""Peers per core at the original's rates: rooms of 10 packed into one process, grown until unhealthy.

Each room of `--room-size` peers is a layer of its own (flooding stays inside it), every peer runs
the default routine at full rate, and the whole population shares one process and one event loop,
as in a packed peer-host actor. Each size runs in a fresh child process. A size is healthy when its
worst steady window's tick-lag p99 stays under one 60 Hz tick (16.7 ms) and no packet is lost; the
figure the issue asks for is the largest healthy size's peers per core of CPU it used.

    python bench/rooms_capacity.py [--peers 10,20,30,40] [--room-size 10] [--seconds 16] [--data-path compiled]

The baseline in the same run is the smallest size (one room): cores per peer of every larger size are
given as a ratio to it, so a harness cost that grows with the population (not with the rooms) shows.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass

import uvloop
from common import BENCH_DIR, emit, print_table, run_child, write_json
from peer_capacity import measure

from peerperf.peer import PeerSettings
from peerperf.peer.settings import DATA_PATHS
from peerperf.sim.population import Population
from peerperf.sim.routines import parse_mix

#: One 60 Hz tick: a tick-lag p99 above it means the routine's timing is no longer the one asked for.
HEALTHY_LAG_MS = 1000 / 60
#: The first capacity issue's goal: 0.04 cores per peer; and issue 23's, for the native data path.
GOAL_PEERS_PER_CORE = 25
GOAL_COMPILED_PEERS_PER_CORE = 50


@dataclass(frozen=True)
class RoomsSample:
    """One population size's steady windows."""

    peers: int
    cpu_percent: float
    tick_lag_p99: float
    received_per_peer: float
    loss: float

    @property
    def cores_per_peer(self) -> float:
        return self.cpu_percent / 100 / self.peers

    @property
    def healthy(self) -> bool:
        return self.tick_lag_p99 < HEALTHY_LAG_MS and self.loss == 0


def child(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    population = Population(args.size, parse_mix("default"), layer_size=args.room_size, room_size=args.room_size)
    work = measure(population, args.seconds, args.stats_interval, PeerSettings(data_path=args.data_path))
    sample = uvloop.run(work)
    emit(
        asdict(
            RoomsSample(sample.layer, sample.cpu_percent, sample.tick_lag_p99, sample.received_per_peer, sample.loss)
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", default="10,20,30,40", help="population sizes, the first one the baseline")
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=16.0)
    parser.add_argument("--stats-interval", type=float, default=2.0, help="seconds per datapoint window")
    parser.add_argument(
        "--data-path", choices=DATA_PATHS, default=PeerSettings().data_path, help="the peers' data path (issue 23)"
    )
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "rooms_capacity.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.room_size < 2:
        parser.error("--room-size must be at least 2")
    if args.child:
        child(args)
        return
    shared = ["--room-size", str(args.room_size), "--seconds", str(args.seconds)]
    shared += ["--stats-interval", str(args.stats_interval), "--data-path", args.data_path]
    samples = [
        RoomsSample(**run_child("rooms_capacity.py", [*shared, "--size", size], timeout=600))
        for size in args.peers.split(",")
    ]
    base = samples[0]
    print_table(
        f"peers per core, rooms of {args.room_size} (a layer each) packed in one process, default routine at full "
        f"rate, {args.data_path} data path (baseline: {base.peers} peers); healthy = tick-lag p99 < "
        f"{HEALTHY_LAG_MS:.1f} ms and no loss",
        ["peers", "cpu % of a core", "cores/peer", "x baseline", "peers/core", "tick lag p99 ms", "loss", "healthy"],
        [
            [
                s.peers,
                round(s.cpu_percent, 1),
                round(s.cores_per_peer, 4),
                round(s.cores_per_peer / base.cores_per_peer, 2),
                round(1 / s.cores_per_peer, 1),
                round(s.tick_lag_p99, 1),
                f"{s.loss:.2%}",
                s.healthy,
            ]
            for s in samples
        ],
    )
    healthy = [s for s in samples if s.healthy]
    best = max(healthy, key=lambda s: s.peers) if healthy else None
    if best is None:
        print("no size was healthy: the machine is saturated (by this bench or by other work)")
    else:
        print(
            f"largest healthy size {best.peers}: {1 / best.cores_per_peer:.1f} peers per core "
            f"(goal >= {GOAL_PEERS_PER_CORE}; issue 23's >= {GOAL_COMPILED_PEERS_PER_CORE})"
        )
    parameters = {k: getattr(args, k) for k in ("peers", "room_size", "seconds", "stats_interval", "data_path")}
    results = {
        "sizes": [{**asdict(s), "cores_per_peer": s.cores_per_peer, "healthy": s.healthy} for s in samples],
        "largest_healthy": best.peers if best else None,
        "peers_per_core": 1 / best.cores_per_peer if best else None,
    }
    write_json(args.json, "rooms_capacity", parameters, results)


if __name__ == "__main__":
    main()
