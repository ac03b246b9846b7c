"""Results ingest: datapoints/s into the results actor (Parquet on) vs a no-op actor, interleaved
round by round on a local loopback-only Ray.

Peer hosts submit one batch per interval, so the driver sends `--batches` batches of `--batch-size`
metrics bodies, `--inflight` at a time, to the real results actor (validation, buffering, Parquet
parts, then `finish_test` writing the final files) and to a no-op actor with the same method. The
HTTP side (PUT metrics driven by `wrk`) is `gateway_vs_original.py`.

    python bench/results_ingest.py [--batches 200] [--batch-size 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from common import BENCH_DIR, median, print_table, write_json

import peerperf  # noqa: F401  (before ray: loopback-only Ray)


def metrics_body() -> dict[str, Any]:
    """A metrics body with every key the original client sent, from the schema itself."""
    from peerperf.protocol.metrics import FIELDS, Kind

    values = {
        Kind.NUMBER: 1234.5678,
        Kind.INTEGER: 123456,
        Kind.TEXT: "peer-0001",
        Kind.TEXT_LIST: [f"peer-{i:04d}" for i in range(4)],
        Kind.VECTOR: [12.345, 0.0, -67.891],
    }
    return {f.name: values[f.kind] for f in FIELDS if f.original}


class NoopResults:
    """The baseline actor: accepts a batch and does nothing with it."""

    async def submit_batch(self, test_id: str, submissions: list[Any]) -> int:
        return len(submissions)


async def feed(actor: Any, test_id: str, batches: int, batch: list[Any], inflight: int) -> float:
    """Submit `batches` batches, at most `inflight` at a time; the wall time it took."""
    start = time.perf_counter()
    pending: set[Any] = set()
    for _ in range(batches):
        if len(pending) >= inflight:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for ref in done:
                await ref
        pending.add(asyncio.ensure_future(actor.submit_batch.remote(test_id, batch)))
    await asyncio.gather(*pending)
    return time.perf_counter() - start


async def actor_rounds(args: argparse.Namespace) -> list[dict[str, Any]]:
    import ray

    from peerperf.cluster.results_actor import spawn_results_actor
    from peerperf.cluster.runtime import init_local_ray
    from peerperf.results.model import Submission
    from peerperf.results.settings import ResultsSettings

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pp-bench-", dir="/tmp") as folder:
        init_local_ray(num_cpus=2, temp_dir=f"{folder}/ray", log_to_driver=False)
        try:
            results = spawn_results_actor(ResultsSettings(location=f"{folder}/results", port=0))
            await results.start.remote()
            noop: Any = ray.remote(NoopResults).options(num_cpus=0).remote()
            await noop.submit_batch.remote("warm-up", [])  # both actors started before any timing
            batch = [Submission(f"peer-{i:04d}", metrics_body()) for i in range(args.batch_size)]
            total = args.batches * args.batch_size
            for _round in range(args.rounds):
                seconds = await feed(noop, "noop", args.batches, batch, args.inflight)
                runs.append({"sink": "no-op actor", "datapoints": total, "seconds": seconds})
                info = await results.create_test.remote(None, True)
                seconds = await feed(results, info.id, args.batches, batch, args.inflight)
                start = time.perf_counter()
                finished = await results.finish_test.remote(info.id)
                finish = time.perf_counter() - start
                assert finished.finished is not None
                parquet = Path(folder, "results", f"{info.id}.parquet")
                assert parquet.stat().st_size > 0
                runs.append(
                    {
                        "sink": "results actor (Parquet)",
                        "datapoints": total,
                        "seconds": seconds,
                        "finish_seconds": finish,
                    }
                )
            await results.stop.remote()
        finally:
            ray.shutdown()
    for run in runs:
        run["datapoints_per_second"] = run["datapoints"] / run["seconds"]
    return runs


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for sink in dict.fromkeys(r["sink"] for r in runs):
        rows.append(
            {
                "sink": sink,
                "datapoints_per_second": median([r["datapoints_per_second"] for r in runs if r["sink"] == sink]),
            }
        )
    base = next(r for r in rows if r["sink"] == "no-op actor")
    for row in rows:
        row["ratio"] = row["datapoints_per_second"] / base["datapoints_per_second"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--inflight", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "results_ingest.json"))
    args = parser.parse_args()
    runs = asyncio.run(actor_rounds(args))
    rows = summarise(runs)
    print_table(
        f"Batched datapoints into an actor, {args.batches} x {args.batch_size}, {args.inflight} in flight, "
        f"median of {args.rounds} interleaved rounds (baseline: no-op actor)",
        ["sink", "datapoints/s", "x baseline"],
        [[r["sink"], r["datapoints_per_second"], r["ratio"]] for r in rows],
    )
    parameters = {k: getattr(args, k) for k in ("batches", "batch_size", "inflight", "rounds")}
    write_json(args.json, "results_ingest", parameters, {"actor": rows, "actor_runs": runs})


if __name__ == "__main__":
    main()
