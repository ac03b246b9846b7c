"""Soak: a long run with peers joining and leaving; memory, file descriptors and datapoints must hold.

The lighthouse and the results service run as their own processes (`python -m ...`), peers as
peer-host actors on a local loopback-only Ray. A steady host keeps its peers for the whole run;
every `--churn-every` s a churn host's peers join the same layer, exchange traffic, submit their
datapoints over HTTP and leave (disposed, the actor ended). Every `--sample-every` s the USS/RSS
and open file descriptors of the results service, the lighthouse and the steady host are read.

Reported: each process's memory slope (MB/min, least squares over the samples after the warm-up),
its last USS against the first post-warm-up sample (x baseline), the change in open file
descriptors, and datapoints in (acknowledged to the hosts) against datapoints out (rows of the
finished test's Parquet). Bounded: the run stops after `--duration` s (default 10 minutes).

    python bench/soak.py [--duration 600] [--peers 4] [--churn-every 20] [--sample-every 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import BENCH_DIR, print_table, start_service, write_json
from hosts import MeasuredPeerHost

import peerperf  # noqa: F401  (before ray: loopback-only Ray)

# isort: split
import pandas as pd
import psutil
import ray

from peerperf.cluster.runtime import init_local_ray
from peerperf.peer import PeerSettings
from peerperf.sim.host_config import HostConfig
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix

LAYER = "soak"


def spawn(lighthouse: str, name: str, peers: int, seed: int) -> Any:
    specs = plan_peers(Population(peers, parse_mix("default"), layer=LAYER), random.Random(seed))
    config = HostConfig(name, lighthouse, PeerSettings(ping_interval=None), seed=seed)
    remote = ray.remote(MeasuredPeerHost)
    return remote.options(num_cpus=0, resources={"peer_slot": peers}, max_concurrency=64).remote(config, specs)


def sample(pid: int) -> dict[str, float]:
    process = psutil.Process(pid)
    info = process.memory_full_info()
    return {"uss_mb": info.uss / 2**20, "rss_mb": info.rss / 2**20, "fds": float(process.num_fds())}


def slope_per_minute(times: list[float], values: list[float]) -> float:
    """Least-squares slope of `values` over `times` (s), per minute."""
    if len(times) < 2:
        return float("nan")
    mean_t, mean_v = sum(times) / len(times), sum(values) / len(values)
    spread = sum((t - mean_t) ** 2 for t in times)
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True)) / spread


def http(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # loopback only
        return json.loads(answer.read() or b"null")


async def churn(lighthouse: str, results: str, test_id: str, args: argparse.Namespace, end: float) -> dict[str, int]:
    """Churn hosts one after another until `end`: join, run `churn_every` s, leave."""
    joined = left = datapoints = 0
    number = 0
    while time.monotonic() + args.churn_every + 5 < end:
        number += 1
        host = spawn(lighthouse, f"churn-{number}", args.peers, seed=1000 + number)
        report = await host.setup.remote()
        joined += len(report.ready)
        datapoints += await host.run.remote(results, test_id, args.churn_every, 60.0)
        await host.shutdown.remote()
        ray.kill(host)
        left += len(report.ready)
    return {"joined": joined, "left": left, "datapoints": datapoints, "hosts": number}


async def soak(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    lighthouse_proc, lighthouse_port = start_service(
        [sys.executable, "-m", "peerperf.lighthouse"],
        folder / "lighthouse.log",
        env={"NO_AUTH": "true", "LIGHTHOUSE_HOST": "127.0.0.1", "LIGHTHOUSE_PORT": "0", "MAX_PER_LAYER": "1000"},
    )
    results_proc, results_port = start_service(
        [sys.executable, "-m", "peerperf.results"],
        folder / "results.log",
        env={"RESULTS_HOST": "127.0.0.1", "RESULTS_PORT": "0", "TEST_RESULTS_LOCATION": str(folder)},
    )
    lighthouse, results = f"http://127.0.0.1:{lighthouse_port}", f"http://127.0.0.1:{results_port}"
    try:
        init_local_ray(
            num_cpus=2, resources={"peer_slot": 2 * args.peers}, temp_dir=str(folder / "ray"), log_to_driver=False
        )
        try:
            test_id = http("POST", f"{results}/test/soak", {"started": True})["id"]
            steady = spawn(lighthouse, "steady", args.peers, seed=1)
            assert not (await steady.setup.remote()).failed
            steady_pid = await steady.pid.remote()
            began = time.monotonic()
            end = began + args.duration
            steady_run = asyncio.ensure_future(steady.run.remote(results, test_id, args.duration, 60.0))
            churning = asyncio.ensure_future(churn(lighthouse, results, test_id, args, end))
            pids = {"results": results_proc.pid, "lighthouse": lighthouse_proc.pid, "steady_host": steady_pid}
            samples: list[dict[str, Any]] = []
            while not steady_run.done():
                samples.append({"t": time.monotonic() - began, **{n: sample(p) for n, p in pids.items()}})
                await asyncio.wait({steady_run}, timeout=args.sample_every)
            steady_datapoints = await steady_run
            churned = await churning
            await steady.shutdown.remote()
            ray.kill(steady)
            http("PUT", f"{results}/test/{test_id}/finish")
        finally:
            ray.shutdown()
    finally:
        for proc in (results_proc, lighthouse_proc):
            proc.terminate()
            proc.wait(timeout=30)
    stored = len(pd.read_parquet(folder / f"{test_id}.parquet"))
    warm_up = min(60.0, args.duration / 4)
    steady_samples = [s for s in samples if s["t"] >= warm_up]
    processes = {}
    for name in pids:
        times = [s["t"] for s in steady_samples]
        uss = [s[name]["uss_mb"] for s in steady_samples]
        processes[name] = {
            "uss_slope_mb_per_min": slope_per_minute(times, uss),
            "rss_slope_mb_per_min": slope_per_minute(times, [s[name]["rss_mb"] for s in steady_samples]),
            "uss_first_mb": uss[0] if uss else float("nan"),
            "uss_last_mb": uss[-1] if uss else float("nan"),
            "fds_first": steady_samples[0][name]["fds"] if steady_samples else float("nan"),
            "fds_last": steady_samples[-1][name]["fds"] if steady_samples else float("nan"),
            "fds_max": max(s[name]["fds"] for s in steady_samples) if steady_samples else float("nan"),
        }
    return {
        "seconds": args.duration,
        "warm_up_seconds": warm_up,
        "samples": len(samples),
        "churn": churned,
        "datapoints_in": steady_datapoints + churned["datapoints"],
        "datapoints_out": stored,
        "processes": processes,
        "series": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of soak (bounded)")
    parser.add_argument("--peers", type=int, default=4, help="peers of the steady host and of each churn host")
    parser.add_argument("--churn-every", type=float, default=20.0, help="seconds each churn host stays")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds between memory samples")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "soak.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pp-soak-", dir="/tmp") as folder:
        result = asyncio.run(soak(args, Path(folder)))
    rows = [
        [
            name,
            p["uss_slope_mb_per_min"],
            p["rss_slope_mb_per_min"],
            p["uss_last_mb"],
            p["uss_last_mb"] / p["uss_first_mb"],
            f"{p['fds_first']:.0f} -> {p['fds_last']:.0f} (max {p['fds_max']:.0f})",
        ]
        for name, p in result["processes"].items()
    ]
    print_table(
        f"soak {args.duration:.0f} s, {result['churn']['joined']} peers joined and left, "
        f"datapoints in {result['datapoints_in']} / out {result['datapoints_out']}",
        ["process", "USS MB/min", "RSS MB/min", "USS MB", "USS x baseline", "open fds"],
        rows,
    )
    write_json(args.json, "soak", vars(args), result)


if __name__ == "__main__":
    main()
