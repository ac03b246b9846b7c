"""How long the analysis takes to summarise a big test: 1,000,000 datapoints from Parquet.

Generates a test of P peers x W windows with every metric a real datapoint has (latency and hop
histograms, counts by subtype and by origin window, harness health), writes it with the results service's own Parquet
schema, then times `load` + `summary` against a same-run baseline: reading the same file with
pandas and averaging three columns per peer (what any analysis must at least do). Prints a table
and writes JSON.

    python bench/analysis_summary.py [--peers 1000] [--windows 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from common import BENCH_DIR, median, print_table, write_json

from peerperf.analysis.results_files import load
from peerperf.analysis.summarise import COLUMNS, summary
from peerperf.results.datapoints import SCHEMA

#: Log buckets a loopback latency histogram typically fills in one window.
LATENCY_BUCKETS = 12
#: The issue's target for a million datapoints on this machine.
GOAL_SECONDS = 3.0


def histograms(rows: int, buckets: int, first: int, rng: np.random.Generator) -> pa.Array:
    """`rows` flat `[bucket, count, ...]` lists of `buckets` consecutive buckets from `first`."""
    index = np.tile(np.arange(first, first + buckets), rows)
    counts = rng.integers(1, 20, size=rows * buckets)
    flat = np.empty(rows * buckets * 2, dtype=np.int64)
    flat[0::2], flat[1::2] = index, counts
    offsets = np.arange(0, rows * buckets * 2 + 1, buckets * 2, dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))


def counts(rows: int, names: list[str], rng: np.random.Generator) -> pa.Array:
    keys = pa.chunked_array([pa.array(np.tile(names, rows))]).combine_chunks()
    values = pa.array(rng.integers(0, 50, size=rows * len(names)))
    offsets = pa.array(np.arange(0, rows * len(names) + 1, len(names), dtype=np.int32))
    return pa.MapArray.from_arrays(offsets, keys, values)


def by_window(window: np.ndarray, subtypes: list[str], late: bool, rng: np.random.Generator) -> pa.Array:
    """Counts by origin window as peers report them: `"w"` and `"w/subtype"`, and with `late` the same for w - 1."""
    origins = [window, window - 1] if late else [window]
    columns = [
        key
        for origin in origins
        for key in (origin.astype(str), *(np.char.add(origin.astype(str), f"/{s}") for s in subtypes))
    ]
    keys = np.stack(columns, axis=1).ravel()
    per_row = len(columns)
    values = pa.array(rng.integers(1, 50, size=len(keys)))
    offsets = pa.array(np.arange(0, len(keys) + 1, per_row, dtype=np.int32))
    names = pa.array(keys, type=pa.string())  # a ChunkedArray when numpy's text is large: one Array for the map
    return pa.MapArray.from_arrays(
        offsets, names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names, values
    )


def generate(path: Path, peers: int, windows: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    rows = peers * windows
    peer = np.repeat(np.arange(peers), windows)
    window = np.tile(np.arange(1, windows + 1), peers)
    columns: dict[str, Any] = {
        "peerId": pa.array([f"peer-{p:05d}" for p in range(peers)]).take(pa.array(peer)),
        "timestamp": pa.array(1_000_000 + window * 2000 + peer % 50, pa.int64()),
        "window": pa.array(window, pa.int64()),
        "hostId": pa.array([f"host-{h:04d}" for h in range(peers // 10 + 1)]).take(pa.array(peer // 10)),
        "nodeId": pa.array(["node-1"] * rows),
        "layer": pa.array([f"blue-{p // 100}" for p in range(peers)]).take(pa.array(peer)),
        "room": pa.array([f"room-{p // 10}" for p in range(peers)]).take(pa.array(peer)),
        "latencyPositionMs": histograms(rows, LATENCY_BUCKETS, 40, rng),
        "latencyProfileMs": histograms(rows, 4, 40, rng),
        "latencyChatMs": histograms(rows, 1, 40, rng),
        "hops": histograms(rows, 3, 1, rng),
        "tickLagMs": histograms(rows, 6, 30, rng),
        "originatedBySubtype": counts(rows, ["position", "profile", "chat"], rng),
        "deliveredBySubtype": counts(rows, ["position", "profile", "chat"], rng),
        "receivedBySubtype": counts(rows, ["position", "profile", "chat", "ping", "pong"], rng),
        "originatedByWindow": by_window(window, ["position", "profile", "chat"], False, rng),
        "arrivedByWindow": by_window(window, ["position", "profile", "chat"], True, rng),
    }
    for name in ("originated", "uniqueReceived", "received", "duplicate", "missing", "ticksMissed"):
        columns[name] = pa.array(rng.integers(0, 100, size=rows).astype(float if name != "ticksMissed" else int))
    for name in ("originatedPerSecond", "sentPerSecond", "receivedPerSecond", "relayedPerSecond", "hostCpuPercent"):
        columns[name] = pa.array(rng.random(rows) * 100)
    columns["connectedPeers"] = pa.array([[f"peer-{(p + k) % peers:05d}" for k in range(1, 5)] for p in range(peers)])
    columns["connectedPeers"] = columns["connectedPeers"].take(pa.array(peer))
    columns["connectedPeersCount"] = pa.array(np.full(rows, 4))
    arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(rows, f.type) for f in SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=SCHEMA)
    pq.write_table(table, path, compression="zstd")
    return rows


def timed(action: Any) -> tuple[float, Any]:
    """Seconds `action` took, and what it returned."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved baseline / analysis rounds")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "analysis_summary.json"))
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.parquet"
        rows = generate(path, args.peers, args.windows)
        for _ in range(args.rounds):
            baseline_s, _ = timed(
                lambda: (
                    pd.read_parquet(path, columns=["peerId", "originated", "received", "receivedPerSecond"])
                    .groupby("peerId")
                    .mean()
                )
            )
            load_s, frame = timed(lambda: load(path, COLUMNS))
            summary_s, result = timed(functools.partial(summary, frame))
            runs.append({"baseline_s": baseline_s, "load_s": load_s, "summary_s": summary_s})
        size_mb = os.path.getsize(path) / 1e6
    baseline = median([r["baseline_s"] for r in runs])
    total = median([r["load_s"] + r["summary_s"] for r in runs])
    results = {
        "datapoints": rows,
        "parquet_mb": round(size_mb, 1),
        "runs": runs,
        "baseline_s": baseline,
        "load_plus_summary_s": total,
        "ratio": total / baseline,
        "goal_s": GOAL_SECONDS,
        "harness_of_generated_data": str(result["harness"]),
    }
    print_table(
        f"summary of {rows:,} datapoints from Parquet ({size_mb:.0f} MB), median of {args.rounds} rounds",
        ["figure", "seconds", "x baseline", "goal"],
        [
            ["read 4 columns + per-peer mean (baseline)", baseline, 1.0, ""],
            ["load(COLUMNS) + summary()", total, total / baseline, f"< {GOAL_SECONDS:.0f} s"],
        ],
    )
    write_json(args.json, "analysis_summary", vars(args), results)


if __name__ == "__main__":
    main()
