"""Time to ready: N peers with their data channels open, packed in one actor and one actor each,
against N bare Ray actors answering a call, same run, interleaved.

"Ready" is every peer connected to the lighthouse, in its layer and room, with min(4, N-1) data
channels open: the moment a test can start measuring. Each round uses a fresh layer on one
lighthouse served by the driver; Ray is local and loopback-only.

    python bench/time_to_ready.py [--peers 6] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from common import BENCH_DIR, median, print_table, write_json
from hosts import ray_and_lighthouse, spawn_host, spawn_idle, stop, until_channels_open


async def ready(hosts: list[Any], peers: int) -> None:
    reports = await asyncio.gather(*(h.setup.remote() for h in hosts))
    assert all(not r.failed for r in reports), reports
    await until_channels_open(hosts, per_peer=min(4, peers - 1))


async def measure(peers: int, rounds: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    async with ray_and_lighthouse(peer_slots=2 * peers) as lighthouse:
        for round_ in range(rounds):
            start = time.perf_counter()
            bare = [spawn_idle() for _ in range(peers)]
            await asyncio.gather(*(a.pid.remote() for a in bare))
            runs.append({"how": f"{peers} bare Ray actors", "seconds": time.perf_counter() - start})
            await stop([], others=bare)

            start = time.perf_counter()
            each = [spawn_host(lighthouse, f"each{round_}", 1, seed=1000 * round_ + i) for i in range(peers)]
            await ready(each, peers)
            runs.append({"how": "one actor per peer", "seconds": time.perf_counter() - start})
            await stop(each)

            start = time.perf_counter()
            packed = [spawn_host(lighthouse, f"packed{round_}", peers, seed=round_)]
            await ready(packed, peers)
            runs.append({"how": "packed in one actor", "seconds": time.perf_counter() - start})
            await stop(packed)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "time_to_ready.json"))
    args = parser.parse_args()
    runs = asyncio.run(measure(args.peers, args.rounds))
    rows = []
    for how in dict.fromkeys(r["how"] for r in runs):
        rows.append({"how": how, "seconds": median([r["seconds"] for r in runs if r["how"] == how])})
    for row in rows:
        row["ratio"] = row["seconds"] / rows[0]["seconds"]
    print_table(
        f"Time to ready, {args.peers} peers, data channels open, median of {args.rounds} interleaved rounds "
        f"(baseline: {args.peers} bare Ray actors)",
        ["how", "seconds", "x baseline"],
        [[r["how"], r["seconds"], r["ratio"]] for r in rows],
    )
    write_json(
        args.json, "time_to_ready", {"peers": args.peers, "rounds": args.rounds}, {"summary": rows, "runs": runs}
    )


if __name__ == "__main__":
    main()
