"""Time to ready: N peers with their data channels open, packed in one actor and one actor each,
against N bare Ray actors answering a call, same run, interleaved.

"Ready" is every peer connected to the lighthouse, in its layer and room, with min(4, N-1) data
channels open: the moment a test can start measuring. Each round uses a fresh layer on one
lighthouse served by the driver; Ray is local and loopback-only. Peers are joined by peerperf's start
barrier (`peerperf.cluster.barrier`: every host started, then all peers joined at once);
`--compare-join` also times joining each host's peers as soon as that host answers. Each way is
split into phases, the moment the last actor reached it: "answering" (its worker started and the
actor answered a call; as-started only), "joined" (its peers in their rooms), "ready" (channels
open); and the CPU time an actor's worker had used by then (what starting it cost, median actor).

`--startup-concurrency` compares how many worker processes the raylet may start at once: "ray" is
Ray's own default (the CPU count), a number sets `worker_maximum_startup_concurrency` to it; each
value gets a fresh local Ray per round, values interleaved.

    python bench/time_to_ready.py [--peers 6] [--rounds 2] [--startup-concurrency ray,16] [--compare-join]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from common import BENCH_DIR, cpu_seconds, median, print_table, write_json
from hosts import ray_and_lighthouse, spawn_host, spawn_idle, stop, until_channels_open

from peerperf.cluster.barrier import barrier
from peerperf.config import RunConfig
from peerperf.run_state import RunOutcome

#: Ray's switch for how many worker processes a raylet starts at once (read by the raylet at start).
STARTUP_CONCURRENCY_ENV = "RAY_worker_maximum_startup_concurrency"


async def ready(hosts: list[Any], peers: int, start: float, join: str) -> dict[str, Any]:
    """Bring every host to ready, its peers joined by peerperf's start barrier (`join` "barrier") or
    each host's as soon as that host answers ("as-started", what the barrier did before): seconds since
    `start` at which the last host answered (as-started only), joined, was ready, and the median CPU
    seconds each host's worker had used by then."""
    phases: dict[str, float] = {}
    if join == "barrier":
        outcome = RunOutcome()
        joined = await barrier([(h, []) for h in hosts], RunConfig(peers=peers), asyncio.Event(), outcome, _quiet)
        assert len(joined) == len(hosts) and not outcome.missing, outcome.missing
        phases["joined"] = time.perf_counter() - start
    else:
        phases.update(answering=0.0, joined=0.0)

        async def one(host: Any) -> None:
            await host.pid.remote()
            phases["answering"] = max(phases["answering"], time.perf_counter() - start)
            report = await host.setup.remote()
            assert not report.failed, report
            phases["joined"] = max(phases["joined"], time.perf_counter() - start)

        await asyncio.gather(*(one(h) for h in hosts))
    await until_channels_open(hosts, per_peer=min(4, peers - 1))
    phases["ready"] = time.perf_counter() - start
    pids = await asyncio.gather(*(h.pid.remote() for h in hosts))
    return {"phases": phases, "cpu_per_actor": median([cpu_seconds(pid) for pid in pids])}


def _quiet(*args: Any, **kwargs: Any) -> None:
    """The barrier's progress display, not shown in a benchmark."""


async def one_round(peers: int, round_: int, joins: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    async with ray_and_lighthouse(peer_slots=2 * peers) as lighthouse:
        start = time.perf_counter()
        bare = [spawn_idle() for _ in range(peers)]
        pids = await asyncio.gather(*(a.pid.remote() for a in bare))
        seconds = time.perf_counter() - start
        cpu = median([cpu_seconds(pid) for pid in pids])
        runs.append({"how": f"{peers} bare Ray actors", "seconds": seconds, "cpu_per_actor": cpu})
        await stop([], others=bare)

        for join in joins:
            start = time.perf_counter()
            layer = f"each{round_}{join}"
            each = [spawn_host(lighthouse, layer, 1, seed=1000 * round_ + i) for i in range(peers)]
            reached = await ready(each, peers, start, join)
            how = "one actor per peer" + ("" if join == "barrier" else f", joined {join}")
            runs.append({"how": how, "seconds": reached["phases"]["ready"], **reached})
            await stop(each)

        start = time.perf_counter()
        packed = [spawn_host(lighthouse, f"packed{round_}", peers, seed=round_)]
        reached = await ready(packed, peers, start, "barrier")
        runs.append({"how": "packed in one actor", "seconds": reached["phases"]["ready"], **reached})
        await stop(packed)
    return runs


async def measure(peers: int, rounds: int, concurrencies: list[str], joins: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for round_ in range(rounds):
        for concurrency in concurrencies:
            if concurrency == "ray":
                os.environ.pop(STARTUP_CONCURRENCY_ENV, None)
            else:
                os.environ[STARTUP_CONCURRENCY_ENV] = str(int(concurrency))
            for run in await one_round(peers, round_, joins):
                runs.append({**run, "startup_concurrency": concurrency, "round": round_})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--startup-concurrency",
        default="ray",
        help="comma-separated: 'ray' (Ray's default: the CPU count) or how many workers the raylet may start at once",
    )
    parser.add_argument(
        "--compare-join",
        action="store_true",
        help="also time one actor per peer with each host's peers joined as soon as it answers (no barrier)",
    )
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "time_to_ready.json"))
    args = parser.parse_args()
    concurrencies = [value.strip() for value in args.startup_concurrency.split(",") if value.strip()]
    for value in concurrencies:
        if value != "ray" and not value.isdigit():
            parser.error(f"--startup-concurrency: {value!r} is neither 'ray' nor a number")
    joins = ["barrier", "as-started"] if args.compare_join else ["barrier"]
    runs = asyncio.run(measure(args.peers, args.rounds, concurrencies, joins))
    rows = []
    for key in dict.fromkeys((r["startup_concurrency"], r["how"]) for r in runs):
        same = [r for r in runs if (r["startup_concurrency"], r["how"]) == key]
        row: dict[str, Any] = {"startup_concurrency": key[0], "how": key[1]}
        row["seconds"] = median([r["seconds"] for r in same])
        row["cpu_per_actor"] = median([r["cpu_per_actor"] for r in same])
        if "phases" in same[0]:
            row["phases"] = {phase: median([r["phases"][phase] for r in same]) for phase in same[0]["phases"]}
        rows.append(row)
    baseline = rows[0]["seconds"]  # the bare actors under the first concurrency listed
    for row in rows:
        row["ratio"] = row["seconds"] / baseline
    print_table(
        f"Time to ready, {args.peers} peers, data channels open, median of {args.rounds} interleaved rounds "
        f"(baseline: {args.peers} bare Ray actors, start-up concurrency {concurrencies[0]}); "
        "phases: the last actor answering (as-started only) / joined / ready; "
        "CPU s: median CPU time of one actor's worker by then",
        ["start-up concurrency", "how", "seconds", "x baseline", "CPU s per actor", "phases"],
        [
            [
                r["startup_concurrency"],
                r["how"],
                r["seconds"],
                r["ratio"],
                r["cpu_per_actor"],
                " / ".join(f"{s:.1f}" for s in r["phases"].values()) if "phases" in r else "",
            ]
            for r in rows
        ],
    )
    write_json(
        args.json,
        "time_to_ready",
        {"peers": args.peers, "rounds": args.rounds, "startup_concurrency": concurrencies, "joins": joins},
        {"summary": rows, "runs": runs},
    )


if __name__ == "__main__":
    main()
