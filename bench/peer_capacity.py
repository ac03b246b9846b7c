"""How much CPU a simulated peer costs, and how that grows with its layer: the basis of `peer_slot` sizing.

One process hosts a whole layer of L peers (embedded lighthouse, real aiortc on loopback, the
default routine) for a steady window, for several L. Every packet floods the whole layer, so a
peer's receive load grows with L. Figures are printed as ratios against the smallest layer measured
in the same run (the machine is noisy; absolute numbers are context), plus the peers one core can
carry at a target load, extrapolated to the original's 100-peer layers.

    python bench/peer_capacity.py [--layers 8,16,24] [--seconds 12] [--loop uvloop|asyncio] [--sctp tuned|stock]

It runs on uvloop by default, as peer-host actors do (Ray uses uvloop when it is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
from dataclasses import dataclass

import uvloop

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import PeerSettings
from peerperf.protocol.wallclock import now_ms_int
from peerperf.results.model import TestInfo
from peerperf.results.results_service import BatchResult, Submission
from peerperf.sim.host import HostConfig, PeerHost
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

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        raise NotImplementedError

    start_test = finish_test = get_test = create_test

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Sample:
    layer: int
    cpu_percent: float
    received_per_peer: float
    tick_lag_p99: float

    @property
    def cpu_per_peer(self) -> float:
        return self.cpu_percent / self.layer


async def measure(layer: int, seconds: float, peer_settings: PeerSettings) -> Sample:
    settings = LighthouseSettings(no_auth=True, port=0, max_per_layer=max(100, layer))
    async with serving(create_app(settings), "127.0.0.1", 0) as port:
        population = Population(layer, parse_mix("default"))
        specs = plan_peers(population, random.Random(layer))
        config = HostConfig(
            "bench", f"http://127.0.0.1:{port}", peer_settings, stats_interval=2.0, max_start_offset=1.0, seed=layer
        )
        host = PeerHost(config, specs)
        report = await host.setup()
        assert not report.failed, report.failed
        results = CollectingResults()
        await host.run(results, "bench", seconds, 10)  # type: ignore[arg-type]
        await host.shutdown()
    steady = results.points[layer * 2 : -layer]  # skip start-up and the partial last window
    cpu = sum(float(p["hostCpuPercent"]) for p in steady) / len(steady)  # type: ignore[arg-type,misc]
    received = sum(float(p["receivedPerSecond"]) for p in steady) / len(steady)  # type: ignore[arg-type,misc]
    lag = max(float(p["tickLagP99"]) for p in steady)  # type: ignore[arg-type]
    return Sample(layer, cpu, received, lag)


async def measure_all(layers: list[int], seconds: float, settings: PeerSettings) -> list[Sample]:
    return [await measure(layer, seconds, settings) for layer in layers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", default="4,8")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="event loop of the host")
    parser.add_argument("--sctp", choices=["tuned", "stock"], default="tuned", help="SCTP transport of the peers")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    settings = PeerSettings(sctp_tuning=args.sctp == "tuned")
    work = measure_all([int(n) for n in args.layers.split(",")], args.seconds, settings)
    samples = uvloop.run(work) if args.loop == "uvloop" else asyncio.run(work)
    base = samples[0]
    print(f"baseline: a layer of {base.layer} peers in one process")
    print(
        "layer  cpu/peer (x baseline)  received/peer (x baseline)  tick lag p99 ms  [context: process cpu %, "
        "received/peer/s]"
    )
    for s in samples:
        print(
            f"{s.layer:5d}  {s.cpu_per_peer / base.cpu_per_peer:21.2f}  "
            f"{s.received_per_peer / base.received_per_peer:26.2f}  {s.tick_lag_p99:15.1f}  "
            f"[{s.cpu_percent:.0f}%, {s.received_per_peer:.0f}/s]"
        )
    # CPU per peer grows about linearly with the packets each peer receives; extrapolate to 100 from the
    # largest layer the process carried without falling behind (a saturated sample under-counts).
    healthy = [s for s in samples if s.tick_lag_p99 < SATURATED_LAG_MS] or samples[:1]
    last = healthy[-1]
    per_packet = last.cpu_percent / (last.layer * last.received_per_peer)  # % of a core per packet/s
    at_100 = per_packet * base.received_per_peer / (base.layer - 1) * 99  # per peer, in a 100-peer layer
    print(f"cpu per received packet/s: {per_packet * 1000:.3f} m% of a core (context, not a target)")
    print(
        f"peers one core carries at {TARGET_CORE_LOAD:.0%} load in a 100-peer layer: "
        f"{TARGET_CORE_LOAD * 100 / at_100:.1f}"
    )


if __name__ == "__main__":
    main()
