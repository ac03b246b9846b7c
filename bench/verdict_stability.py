"""Verdict stability: the same run repeated in fresh processes, as a new user would run it; does the
harness verdict come out the same every time?

Each run is a whole `python -m peerperf.run` (local Ray, embedded lighthouse and results service,
default routine at the original's rates, pings on as the original client's) with `--summary-json`;
the layouts are interleaved round by round so the machine's noise hits each alike. Per run it
reports the harness verdict, the tick-lag p99 the verdict read (merged histograms of the steady
state) and the share of due ticks skipped over the same windows. The same-run baseline is the same
layout with `--ping-interval off` (`--baseline-runs`, one per layout by default): the issue that
asked for this bench found packed rooms saturated with pings and healthy without.

    python bench/verdict_stability.py [--runs 5] [--peers 10] [--duration 60] [--layouts packed,actor-each]
        [--seed N] [--baseline-runs 1]

Without `--seed` every run draws its own (as a new user's runs do); the timer seed each run used is
in the JSON. Layouts: `packed` puts every peer in one peer host, `actor-each` one peer per host.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from common import BENCH_DIR, median, print_table, write_json

import peerperf  # noqa: F401  (before the analysis: loopback-only Ray if anything imports it)
from peerperf.analysis.results_files import load, metadata
from peerperf.analysis.windows import steady, with_windows

#: How long one run may take beyond its duration (Ray, peers joining, the summary).
RUN_OVERHEAD = 240


def peers_per_actor(layout: str, peers: int) -> int:
    if layout == "packed":
        return peers
    if layout == "actor-each":
        return 1
    raise ValueError(f"unknown layout {layout!r}: packed or actor-each")


def one_run(layout: str, peers: int, duration: float, seed: int | None, pings: bool) -> dict[str, Any]:
    """One `python -m peerperf.run` in a fresh process; its verdict and tick figures."""
    with tempfile.TemporaryDirectory(prefix="pp-verdict-", dir="/tmp") as folder:
        summary_path = Path(folder) / "summary.json"
        args = ["--peers", str(peers), "--peers-per-actor", str(peers_per_actor(layout, peers))]
        args += ["--duration", str(duration), "--output", folder, "--summary-json", str(summary_path), "--plain"]
        args += [] if seed is None else ["--seed", str(seed)]
        args += [] if pings else ["--ping-interval", "off"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("RAY_ADDRESS", None)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "peerperf.run", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=duration + RUN_OVERHEAD,
            check=False,
        )
        if not summary_path.exists():
            raise RuntimeError(f"run failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        summary = json.loads(summary_path.read_text())
        parquet = next(p for p in Path(folder).glob("*.parquet") if p.name.count(".") == 1)
        harness = summary["harness"]
        return {
            "layout": layout,
            "pings": pings,
            "exit_code": done.returncode,
            "verdict": harness["status"],
            "reasons": harness["reasons"],
            "tick_lag_p99_ms": harness["figures"].get("tickLagP99Ms"),
            "skipped_share": skipped_share(parquet),
            "host_cpu_max_percent": harness["figures"].get("hostCpuMaxPercent"),
            "machine_cpu_p90_percent": harness["figures"].get("machineCpuP90Percent"),
            "steady_state": summary["steadyState"],
            "timer_seed": metadata(parquet).get("timerSeed"),
            "load1_before": round(load_before, 2),
            "seconds": round(time.monotonic() - started, 1),
        }


def skipped_share(parquet: Path) -> float:
    """Ticks skipped / ticks due over the steady state's host windows (each host window counted once)."""
    frame, _ = steady(with_windows(load(parquet, ["peerId", "hostId", "window", "timestamp", "ticksMissed"])))
    hosts = frame.drop_duplicates(["hostId", "window"])
    keys = set(zip(hosts["hostId"], hosts["window"], strict=True))
    ran = 0
    table = pq.read_table(parquet, columns=["hostId", "window", "tickLagMs"]).to_pylist()
    for row in table:  # a histogram is flat [bucket, count, ...]: ticks run = the counts' sum
        if (row["hostId"], row["window"]) in keys:
            ran += sum((row["tickLagMs"] or [])[1::2])
            keys.discard((row["hostId"], row["window"]))
    missed = float(hosts["ticksMissed"].sum())
    return missed / (ran + missed) if ran + missed else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per layout")
    parser.add_argument("--peers", type=int, default=10, help="peers in the room")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--layouts", default="packed,actor-each", help="packed, actor-each, or both")
    parser.add_argument("--seed", type=int, help="one seed for every run (default: each run draws its own)")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs per layout with pings off (baseline)")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "verdict_stability.json"))
    args = parser.parse_args()
    layouts = args.layouts.split(",")
    for layout in layouts:
        peers_per_actor(layout, args.peers)  # refuse a bad layout before the first run
    runs: list[dict[str, Any]] = []
    for round_ in range(max(args.runs, args.baseline_runs)):
        for layout in layouts:
            for pings in (True, False):
                if round_ < (args.runs if pings else args.baseline_runs):
                    run = one_run(layout, args.peers, args.duration, args.seed, pings)
                    runs.append(run)
                    print(json.dumps(run), flush=True)
    rows, summaries = [], {}
    for layout in layouts:
        ours = [r for r in runs if r["layout"] == layout and r["pings"]]
        base = [r for r in runs if r["layout"] == layout and not r["pings"]]
        base_lag = median([r["tick_lag_p99_ms"] for r in base if r["tick_lag_p99_ms"] is not None])
        verdicts = Counter(r["verdict"] for r in ours)
        summaries[layout] = {
            "verdicts": dict(verdicts),
            "identical": max(verdicts.values()) if verdicts else 0,
            "runs": len(ours),
            "baseline_tick_lag_p99_ms": base_lag,
            "baseline_verdicts": dict(Counter(r["verdict"] for r in base)),
        }
        for r in [*ours, *base]:
            lag = r["tick_lag_p99_ms"]
            rows.append(
                [
                    layout,
                    "on" if r["pings"] else "off (baseline)",
                    r["verdict"],
                    lag if lag is not None else float("nan"),
                    lag / base_lag if lag is not None and base_lag else float("nan"),
                    100 * r["skipped_share"],
                    r["host_cpu_max_percent"] or float("nan"),
                    r["load1_before"],
                ]
            )
    print_table(
        f"Harness verdicts, {args.peers} peers in one room, default routine, {args.duration:g} s per run "
        "(baseline: the same layout with pings off)",
        ["layout", "pings", "verdict", "tick lag p99 ms", "lag x baseline", "skipped %", "host cpu max %", "load1"],
        rows,
    )
    for layout, s in summaries.items():
        print(f"{layout}: {s['identical']} of {s['runs']} identical verdicts {s['verdicts']}")
    parameters = {k: getattr(args, k) for k in ("runs", "peers", "duration", "layouts", "seed", "baseline_runs")}
    write_json(args.json, "verdict_stability", parameters, {"layouts": summaries, "runs": runs})


if __name__ == "__main__":
    main()
