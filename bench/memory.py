"""Memory: a packed peer's USS, a peer-host actor's USS, and an idle Ray worker's USS, same run.

On a local loopback-only Ray with a lighthouse on the driver's loop, each round starts an idle
actor (the baseline), a peer-host actor with one peer, and a packed peer-host actor with `--packed`
peers in one room, waits until every peer's data channels are open, then reads each process's USS
(unique set size: what the process would free if it exited). A packed peer costs
(USS of the packed host - USS of the one-peer host) / (packed - 1). Peers run the `idle` routine:
this is the memory of connected peers, not of their traffic buffers.

    python bench/memory.py [--packed 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from common import BENCH_DIR, median, print_table, write_json
from hosts import ray_and_lighthouse, spawn_host, spawn_idle, stop, until_channels_open, uss_mb


async def measure(packed: int, rounds: int) -> list[dict[str, Any]]:
    runs = []
    async with ray_and_lighthouse(peer_slots=packed + 1) as lighthouse:
        for round_ in range(rounds):
            idle = spawn_idle()
            single = spawn_host(lighthouse, f"single{round_}", 1, seed=round_)
            packed_host = spawn_host(lighthouse, f"packed{round_}", packed, seed=100 + round_)
            hosts = [single, packed_host]
            reports = await asyncio.gather(*(h.setup.remote() for h in hosts))
            assert all(not r.failed for r in reports), reports
            await until_channels_open([packed_host], per_peer=min(4, packed - 1))
            await asyncio.sleep(1.0)  # let start-up garbage settle
            idle_pid, single_pid, packed_pid = await asyncio.gather(
                idle.pid.remote(), single.pid.remote(), packed_host.pid.remote()
            )
            run = {
                "idle_worker_mb": uss_mb(idle_pid),
                "peer_host_actor_mb": uss_mb(single_pid),
                "packed_host_mb": uss_mb(packed_pid),
                "loop": await single.loop.remote(),
                "heavy_imports": await single.heavy_imports.remote(),
            }
            run["packed_peer_mb"] = (run["packed_host_mb"] - run["peer_host_actor_mb"]) / (packed - 1)
            runs.append(run)
            await stop(hosts, others=[idle])
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packed", type=int, default=10, help="peers in the packed host (one room)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "memory.json"))
    args = parser.parse_args()
    runs = asyncio.run(measure(args.packed, args.rounds))
    idle = median([r["idle_worker_mb"] for r in runs])
    host = median([r["peer_host_actor_mb"] for r in runs])
    peer = median([r["packed_peer_mb"] for r in runs])
    summary = {"idle_worker_mb": idle, "peer_host_actor_mb": host, "packed_peer_mb": peer}
    print_table(
        f"USS, median of {args.rounds} rounds (baseline: an idle Ray worker); "
        f"packed host of {args.packed} peers in one room, channels open; "
        f"event loop in actors: {runs[0]['loop']}; heavy modules in a peer-host actor: {runs[0]['heavy_imports']}",
        ["figure", "MB", "x baseline"],
        [
            ["idle Ray worker (baseline)", idle, 1.0],
            ["peer-host actor, one peer", host, host / idle],
            ["packed peer (marginal)", peer, peer / idle],
        ],
    )
    write_json(args.json, "memory", {"packed": args.packed, "rounds": args.rounds}, {"summary": summary, "runs": runs})


if __name__ == "__main__":
    main()
