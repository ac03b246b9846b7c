"""How much CPU a simulated peer costs, and how that grows with its layer: the basis of `peer_slot` sizing.

One process hosts a whole layer of L peers (embedded lighthouse, real aiortc on loopback, the
default routine) for a steady window, for several L, each layer in a fresh child process. Every
packet floods the whole layer, so a peer's receive load grows with L: that growth is what sizes
`peer_slot` in `cluster.yaml`. Figures are printed as ratios against the smallest layer measured in
the same run (the machine is noisy; absolute numbers are context), plus the peers one core can
carry at a target load in a 100-peer layer.

Whole layers of 25-100 peers at the original's rates need more than one process of a small machine:
`--rate-scale 0.1` runs the default routine at a tenth of its rates (bench/scaled_routine.py), so
every layer fits, and the figures are CPU per peer and per received packet at that rate; a layer
whose tick lag shows it fell behind is marked saturated.

    python bench/peer_capacity.py [--layers 25,50,100] [--rate-scale 0.1] [--seconds 12]
        [--loop uvloop|asyncio] [--sctp tuned|stock]

It runs on uvloop by default, as peer-host actors do (Ray uses uvloop when it is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
from dataclasses import asdict, dataclass
from typing import Any

import scaled_routine
import uvloop
from common import BENCH_DIR, emit, print_table, run_child, write_json

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import PeerSettings
from peerperf.protocol.wallclock import now_ms, now_ms_int
from peerperf.results.model import BatchResult, Submission, TestInfo
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix

#: CPU share of a core a node should run at, leaving headroom for bursts and the OS.
TARGET_CORE_LOAD = 0.6
#: Tick lag p99 above two 60 Hz periods means the process could not keep up: not used to extrapolate.
SATURATED_LAG_MS = 2000 / 60


class CollectingResults:
    """A results client that starts at once and keeps the datapoints in memory (bench only)."""

    def __init__(self) -> None:
        self.points: list[dict[str, object]] = []

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        return TestInfo(test_id, now_ms_int())

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        self.points.extend(s.metrics for s in submissions)
        return BatchResult(len(submissions))

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return BatchResult(len(submissions))  # final results are not what this bench measures

    async def submit_topology(self, test_id: str, topology: object) -> None:
        return None

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        raise NotImplementedError

    start_test = finish_test = get_test = set_metadata = create_test

    async def server_time_ms(self) -> float:
        return now_ms()

    async def drain(self) -> BatchResult:
        return BatchResult(0)  # nothing is ever queued: every datapoint is kept as it comes

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Sample:
    """One layer's steady window: process CPU, packets each peer received, and how late ticks ran."""

    layer: int
    cpu_percent: float
    received_per_peer: float
    tick_lag_p99: float
    #: Share of other peers' packets declared missing by sequence numbers, over the steady windows.
    loss: float = 0.0

    @property
    def cpu_per_peer(self) -> float:
        return self.cpu_percent / self.layer

    @property
    def saturated(self) -> bool:
        return self.tick_lag_p99 >= SATURATED_LAG_MS

    @property
    def per_packet(self) -> float:
        """% of a core per received packet/s."""
        return self.cpu_percent / (self.layer * self.received_per_peer) if self.received_per_peer else float("nan")


async def measure(population: Population, seconds: float, stats_interval: float, peer_settings: PeerSettings) -> Sample:
    """Run `population` in this process against an embedded lighthouse; the steady windows' figures."""
    layer = population.peers
    settings = LighthouseSettings(no_auth=True, port=0, max_per_layer=max(100, layer))
    async with serving(create_app(settings), "127.0.0.1", 0) as port:
        specs = plan_peers(population, random.Random(layer))
        config = HostConfig(
            "bench",
            f"http://127.0.0.1:{port}",
            peer_settings,
            stats_interval=stats_interval,
            max_start_offset=1.0,
            seed=layer,
        )
        host = PeerHost(config, specs)
        report = await host.setup()
        assert not report.failed, report.failed
        results = CollectingResults()
        await host.run(results, "bench", seconds, 10)  # type: ignore[arg-type]
        await host.shutdown()
    steady = results.points[layer * 2 : -layer]  # skip start-up and the partial last window
    assert steady, f"no steady window: run longer than {3 * stats_interval} s"
    cpu = sum(float(p["hostCpuPercent"]) for p in steady) / len(steady)  # type: ignore[arg-type,misc]
    received = sum(float(p["receivedPerSecond"]) for p in steady) / len(steady)  # type: ignore[arg-type,misc]
    lag = max(float(p["tickLagP99"]) for p in steady)  # type: ignore[arg-type]
    missing = sum(int(p["missing"]) - int(p["lateArrivals"]) for p in steady)  # type: ignore[call-overload]
    arrived = sum(int(p["uniqueReceived"]) for p in steady)  # type: ignore[call-overload]
    return Sample(layer, cpu, received, lag, missing / (arrived + missing) if arrived + missing else 0.0)


def child(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    scaled_routine.RATE_SCALE = args.rate_scale
    settings = PeerSettings(sctp_tuning=args.sctp == "tuned")
    population = Population(args.layer, parse_mix("scaled_routine:routine"))
    work = measure(population, args.seconds, args.stats_interval, settings)
    sample = uvloop.run(work) if args.loop == "uvloop" else asyncio.run(work)
    emit(asdict(sample))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", default="25,50,100", help="layer sizes, the first one the baseline")
    parser.add_argument("--rate-scale", type=float, default=0.1, help="fraction of the default routine's rates")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--stats-interval", type=float, default=2.0, help="seconds per datapoint window")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="event loop of the host")
    parser.add_argument("--sctp", choices=["tuned", "stock"], default="tuned", help="SCTP transport of the peers")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "peer_capacity.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--layer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 0 < args.rate_scale <= 1:
        parser.error("--rate-scale must be in (0, 1]")
    if args.child:
        child(args)
        return
    shared = ["--rate-scale", str(args.rate_scale), "--seconds", str(args.seconds)]
    shared += ["--stats-interval", str(args.stats_interval), "--loop", args.loop, "--sctp", args.sctp]
    samples = [
        Sample(**run_child("peer_capacity.py", [*shared, "--layer", layer], timeout=600))
        for layer in args.layers.split(",")
    ]
    rows = summarise(samples, args.rate_scale)
    print_table(
        f"CPU per peer vs layer size, whole layers in one process, default routine at {args.rate_scale:g}x its "
        f"rates (baseline: the layer of {samples[0].layer})",
        ["layer", "cpu/peer x baseline", "received/peer x baseline", "tick lag p99 ms", "cpu %", "received/peer/s"],
        [
            [
                row["layer"],
                row["cpu_per_peer_ratio"],
                row["received_per_peer_ratio"],
                row["tick_lag_p99"],
                row["cpu_percent"],
                row["received_per_peer"],
            ]
            for row in rows
        ],
    )
    healthy = [s for s in samples if not s.saturated] or samples[:1]
    per_packet = healthy[-1].per_packet
    # CPU per peer grows about linearly with the packets each peer receives, and at full rate a peer of a
    # 100-peer layer receives (1 / rate scale) x what the baseline layer's peers did per other peer, x 99.
    base = samples[0]
    at_100 = per_packet * base.received_per_peer / args.rate_scale / (base.layer - 1) * 99
    print(f"cpu per received packet/s: {per_packet * 1000:.3f} m% of a core (largest healthy layer)")
    print(
        f"peers one core carries at {TARGET_CORE_LOAD:.0%} load in a 100-peer layer at the default routine's "
        f"full rates: {TARGET_CORE_LOAD * 100 / at_100:.2f}"
    )
    parameters = {k: getattr(args, k) for k in ("layers", "rate_scale", "seconds", "stats_interval", "loop", "sctp")}
    peers_per_core = TARGET_CORE_LOAD * 100 / at_100
    results = {"layers": rows, "per_packet_m_percent": per_packet * 1000, "peers_per_core_at_100": peers_per_core}
    write_json(args.json, "peer_capacity", parameters, results)


def summarise(samples: list[Sample], rate_scale: float) -> list[dict[str, Any]]:
    """Each layer's figures with ratios against the first layer."""
    base = samples[0]
    return [
        {
            **asdict(s),
            "rate_scale": rate_scale,
            "cpu_per_peer": s.cpu_per_peer,
            "cpu_per_peer_ratio": s.cpu_per_peer / base.cpu_per_peer if base.cpu_per_peer else float("nan"),
            "received_per_peer_ratio": s.received_per_peer / base.received_per_peer
            if base.received_per_peer
            else float("nan"),
            "per_packet_m_percent": s.per_packet * 1000,
            "saturated": s.saturated,
        }
        for s in samples
    ]


if __name__ == "__main__":
    main()
