"""Ping rounds in lockstep vs spread (vs none): a packed room of 10 at the original's rates, same run, interleaved.

One process hosts the whole room (embedded lighthouse, real aiortc on loopback, default routine,
pings as the original client: 9 ms + 7 s), each layout in a fresh child process:
- `lockstep`: the timers as they were before issue 22 (every peer's first ping round 9 ms after it
  joined, the routines' timers one period after their start offsets, no tick or submission phase),
  so all ten rounds start together, every ~7 s;
- `spread`: the timers at their phases (`peerperf/sim/phases.py`), the default;
- `off`: pings off (`--ping-interval off`), what the room costs without rounds.

Per layout it reports, over the steady windows: tick-lag p99 (merged histograms) and max, the
share of due ticks skipped, the host's CPU, how far the room's received packets per window stray
from their mean, and a round's anatomy: ping and pong packets received and pongs created per round
started, and its CPU (the process's beyond `off`'s, per round). The baseline is `lockstep`.

    python bench/ping_rounds.py [--rounds 3] [--peers 10] [--seconds 30]
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import uvloop
from common import BENCH_DIR, emit, median, print_table, run_child, write_json
from peer_capacity import CollectingResults

import peerperf.sim.host_peers as host_peers
from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import PeerSettings
from peerperf.peer.timer_phases import TimerPhases
from peerperf.protocol.histogram import Histogram
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix

LAYOUTS = ("lockstep", "spread", "off")
#: Windows left out at the start (mesh forming, routines starting at offsets of up to 3 s).
WARMUP_WINDOWS = 2


@dataclass(frozen=True)
class Sample:
    """One layout's steady windows."""

    layout: str
    tick_lag_p99: float
    tick_lag_max: float
    skipped_share: float
    cpu_percent: float
    #: Largest |received per window - mean| / mean over the room's steady windows.
    received_deviation: float
    rounds: int
    received_pings_per_round: float
    received_pongs_per_round: float
    created_pongs_per_round: float


def lock_the_timers(host: PeerHost) -> None:
    """Put `host`'s timers back as they were before phases: all peers' rounds start together."""
    host_peers.peer_phases = lambda seed, index: TimerPhases()
    host_peers.phase = lambda seed, timer, index: 1.0  # routine timers: one period in
    host._tick_phase, host.submit_delay = 0.0, 0.0


def ping_pong_counts(host: PeerHost) -> Counter[tuple[str, str]]:
    """Ping and pong packets the host's peers received and created so far."""
    return Counter(
        {
            (category, subtype): sum(s.peer.stats.subtype_count(category, subtype) for s in host.sims)
            for category in ("received", "originated")
            for subtype in ("ping", "pong")
        }
    )


async def measure(layout: str, peers: int, seconds: float, seed: int) -> Sample:
    settings = LighthouseSettings(no_auth=True, port=0, max_per_layer=100)
    async with serving(create_app(settings), "127.0.0.1", 0) as port:
        specs = plan_peers(Population(peers, parse_mix("default")), random.Random(seed))
        pings = PeerSettings(ping_interval=None if layout == "off" else 0.009)
        config = HostConfig("bench", f"http://127.0.0.1:{port}", pings, seed=seed)
        host = PeerHost(config, specs)
        if layout == "lockstep":
            lock_the_timers(host)
        report = await host.setup()
        assert not report.failed, report.failed
        results = CollectingResults()
        before = ping_pong_counts(host)  # the rounds of the set-up are not the test's
        started = time.process_time()
        await host.run(results, "bench", seconds, 10)  # type: ignore[arg-type]
        cpu = time.process_time() - started
        counts = ping_pong_counts(host) - before
        await host.shutdown()
    points: list[dict[str, Any]] = results.points
    last = max(int(p["window"]) for p in points)
    steady = [p for p in points if WARMUP_WINDOWS < int(p["window"]) < last]
    windows: dict[int, dict[str, Any]] = {}
    for p in steady:
        window = windows.setdefault(int(p["window"]), {"received": 0, "lag": p["tickLagMs"], "missed": 0})
        window["received"] += int(p["received"])
        window["missed"] = int(p["ticksMissed"])
    lag = Histogram()
    for window in windows.values():
        lag.merge(Histogram.decode(window["lag"]))
    missed = sum(w["missed"] for w in windows.values())
    received = [w["received"] for w in windows.values()]
    mean = sum(received) / len(received)
    rounds = sum(int(p["pingRounds"]) for p in points)
    per_round = max(rounds, 1)
    return Sample(
        layout,
        lag.percentile(99),
        max(float(p["tickLagMax"]) for p in steady),
        missed / (lag.total + missed),
        100 * cpu / seconds,
        max(abs(r - mean) for r in received) / mean,
        rounds,
        counts["received", "ping"] / per_round,
        counts["received", "pong"] / per_round,
        counts["originated", "pong"] / per_round,
    )


def child(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    emit(asdict(uvloop.run(measure(args.layout, args.peers, args.seconds, args.seed))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="lockstep/spread pairs, alternated")
    parser.add_argument("--peers", type=int, default=10, help="peers in the room (one process)")
    parser.add_argument("--seconds", type=float, default=30.0, help="test length per run")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "ping_rounds.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--layout", choices=LAYOUTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    shared = ["--peers", str(args.peers), "--seconds", str(args.seconds), "--seed", str(args.seed)]
    samples: list[Sample] = []
    for _ in range(args.rounds):
        for layout in LAYOUTS:
            samples.append(Sample(**run_child("ping_rounds.py", [*shared, "--layout", layout], timeout=600)))
    fields = ["tick_lag_p99", "tick_lag_max", "skipped_share", "cpu_percent", "received_deviation"]
    medians = {
        layout: {f: median([getattr(s, f) for s in samples if s.layout == layout]) for f in fields}
        for layout in LAYOUTS
    }
    rows = []
    for layout in LAYOUTS:
        m, base = medians[layout], medians["lockstep"]
        rows.append(
            [
                layout,
                m["tick_lag_p99"],
                m["tick_lag_p99"] / base["tick_lag_p99"],
                m["tick_lag_max"],
                100 * m["skipped_share"],
                100 * m["received_deviation"],
                m["cpu_percent"],
            ]
        )
    print_table(
        f"Ping rounds of a packed room of {args.peers}, default routine, pings as the original (medians of "
        f"{args.rounds} runs each; baseline: lockstep)",
        ["timers", "tick lag p99 ms", "x baseline", "tick lag max ms", "skipped %", "received ±% max", "cpu %"],
        rows,
    )
    anatomy = [s for s in samples if s.layout == "spread"]
    rounds_per_second = median([s.rounds for s in anatomy]) / args.seconds
    cpu_per_round = (medians["spread"]["cpu_percent"] - medians["off"]["cpu_percent"]) / 100 / rounds_per_second
    print(
        "a round (spread runs, median): "
        f"{median([s.received_pings_per_round for s in anatomy]):.1f} pings and "
        f"{median([s.received_pongs_per_round for s in anatomy]):.0f} pongs received, "
        f"{median([s.created_pongs_per_round for s in anatomy]):.1f} pongs created, "
        f"{1000 * cpu_per_round:.0f} ms of CPU (beyond pings off)"
    )
    medians["round"] = {"cpu_ms": 1000 * cpu_per_round, "rounds_per_second": rounds_per_second}
    parameters = {k: getattr(args, k) for k in ("rounds", "peers", "seconds", "seed")}
    write_json(args.json, "ping_rounds", parameters, {"medians": medians, "samples": [asdict(s) for s in samples]})


if __name__ == "__main__":
    main()
