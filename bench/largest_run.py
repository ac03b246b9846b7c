"""The largest run this machine holds: whole `python -m peerperf.run` tests, grown until the verdict is not healthy.

Every size is one real run in a fresh process, exactly as a user starts it: the embedded lighthouse and
results service, peers in layers of the default size (the original's 50: fewer peers make one layer of
them all), the default routine at its full rates, pings on, packed `--hosts` peer hosts (default: one per
core, so the event loops can use every core). The figure is the largest size whose harness verdict is
healthy and whose delivery is whole; its cores per peer are given as a ratio to the smallest size's,
measured in the same run, so a cost that grows with the layer shows.

    python bench/largest_run.py [--peers 8,16,24,32,40,50] [--hosts 2] [--duration 60] [--keep-going] [--json F]

Sizes run in order and the bench stops after the second unhealthy one (`--keep-going` runs them all).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import BENCH_DIR, print_table, write_json

#: A run ends with 0 (healthy, or no verdict asked), or 3 when completed but its harness was not healthy.
COMPLETED = (0, 3)


@dataclass(frozen=True)
class RunSample:
    """One whole run's verdict and what it cost."""

    peers: int
    hosts: int
    layers: str
    status: str
    delivery: float
    loss: float
    tick_lag_p99_ms: float
    ticks_missed: float
    cores_per_peer: float
    received_per_peer: float
    exit_code: int
    seconds: float

    @property
    def healthy(self) -> bool:
        return self.status == "healthy" and self.loss == 0


def run_size(peers: int, hosts: int, duration: float, seed: int, folder: Path) -> RunSample:
    """One real run of `peers` packed on `hosts` peer hosts; its summary read back from `--summary-json`."""
    summary_path = folder / f"summary-{peers}.json"
    command = [
        *(sys.executable, "-m", "peerperf.run", "--plain", "--peers", str(peers)),
        *("--peers-per-actor", str(math.ceil(peers / hosts)), "--duration", str(duration)),
        *("--seed", str(seed), "--output", str(folder), "--summary-json", str(summary_path)),
    ]
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 600, env=env, check=False)
    if done.returncode not in COMPLETED or not summary_path.exists():
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    summary: dict[str, Any] = json.loads(summary_path.read_text())
    metrics, harness = summary["metrics"], summary["harness"]
    figures = harness.get("figures", {})
    return RunSample(
        peers,
        hosts,
        str(metrics.get("layers", "")),
        harness["status"],
        _number(metrics.get("delivery", math.nan)),
        _number(metrics.get("loss", math.nan)),
        _number(figures.get("tickLagP99Ms", math.nan)),
        _number(figures.get("ticksMissed", math.nan)),
        cores_per_peer(folder, peers),
        _number(metrics.get("throughput.received", math.nan)),
        done.returncode,
        round(time.monotonic() - started, 1),
    )


def _number(value: Any) -> float:
    """A summary figure; NaN where the run could not measure it (None)."""
    return math.nan if value is None else float(value)


def cores_per_peer(folder: Path, peers: int) -> float:
    """The peer hosts' CPU over the steady state, per peer: each host window's process CPU, summed over hosts."""
    from peerperf.analysis.results_files import load_datapoints
    from peerperf.analysis.windows import steady, with_windows

    parquet = next(p for p in folder.glob("*.parquet") if p.name.count(".") == 1)
    frame = with_windows(load_datapoints(parquet).assign(testId=parquet.stem))
    body, _ = steady(frame)
    per_window = body.drop_duplicates(["hostId", "window"]).groupby("window")["hostCpuPercent"].sum()
    return float(per_window.mean()) / 100 / peers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", default="8,16,24,32,40,50", help="run sizes in order, the first one the baseline")
    parser.add_argument("--hosts", type=int, default=os.cpu_count() or 1, help="packed peer hosts per run")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-going", action="store_true", help="run every size, healthy or not")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "largest_run.json"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.peers.split(",")]
    samples: list[RunSample] = []
    unhealthy = 0
    for peers in sizes:
        with tempfile.TemporaryDirectory(prefix=f"largest-run-{peers}-") as folder:
            sample = run_size(peers, args.hosts, args.duration, args.seed, Path(folder))
        samples.append(sample)
        lag = f"tick lag p99 {sample.tick_lag_p99_ms:.1f} ms"
        print(f"{peers} peers ({sample.layers}): {sample.status}, {lag}, {sample.seconds:.0f} s", flush=True)
        unhealthy += not sample.healthy
        if unhealthy >= 2 and not args.keep_going:
            break
    baseline = samples[0].cores_per_peer
    rows = [
        {**asdict(s), "healthy": s.healthy, "cores_per_peer_vs_smallest": s.cores_per_peer / baseline} for s in samples
    ]
    healthy = [s.peers for s in samples if s.healthy]
    print_table(
        "whole runs, packed, default routine and rates, layers of the default size",
        ["peers", "layers", "verdict", "delivery", "lag p99 ms", "cores/peer", "x baseline", "received/s"],
        [
            [r["peers"], r["layers"], r["status"], r["delivery"], r["tick_lag_p99_ms"], r["cores_per_peer"], *tail]
            for r in rows
            for tail in [[r["cores_per_peer_vs_smallest"], r["received_per_peer"]]]
        ],
    )
    print(f"largest healthy run: {max(healthy) if healthy else 'none'} peers")
    parameters = {"peers": sizes, "hosts": args.hosts, "duration": args.duration, "seed": args.seed}
    write_json(args.json, "largest_run", parameters, {"sizes": rows, "largest_healthy": max(healthy, default=None)})


if __name__ == "__main__":
    main()
