"""Cost of a browser peer vs a Python peer, measured in the same run (issue 25 item 4).

Each round is one real mixed run, `python -m peerperf.run --peers N --browser-peers N --browser-client
../shared/original/client`, inside a network namespace with loopback only (Chromium's WebRTC uses every
interface it finds), the Python peers packed on one host as the pages are in one Chromium. Per round:
- browser peer: the browser host's own figures (the test's metadata `browserHosts`): CPU of its whole
  Chromium process tree over the test, in % of a core, and its PSS, each divided by its pages;
- Python peer: the peer host's figures in its datapoints (`hostCpuPercent` over the steady windows, the
  mean; `hostMemoryMb`, RSS, the last), each divided by its peers;
- the ratio browser / Python of each, the same-run comparison `peerperf plan` can size a mixed population
  with. Memory compares PSS (browser tree) with RSS (one Python process, a little above its PSS).
Needs root (unshare), Debian's chromium and the original client beside the checkout.

    python bench/browser_cost.py [--rounds 3] [--peers 4] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import BENCH_DIR, median, print_table, write_json

CLIENT = BENCH_DIR.parent.parent / "shared" / "original" / "client"
#: Windows left out at the start (routines' offsets, the mesh settling, the pages' start poll of 3 s).
WARMUP_WINDOWS = 3


def one_round(peers: int, seconds: float) -> dict[str, Any]:
    """One mixed run; the per-peer figures of both kinds and their ratios."""
    with tempfile.TemporaryDirectory(prefix="browser-cost-") as folder:
        command = [
            *("unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"),
            *(sys.executable, "-m", "peerperf.run", "--plain", "--allow-unhealthy", "--output", folder),
            *("--peers", str(peers), "--peers-per-actor", str(peers), "--browser-peers", str(peers)),
            *("--pages-per-browser", str(peers), "--browser-client", str(CLIENT), "--duration", str(seconds)),
            *("--topology-interval", "0"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"the run failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        (path,) = [p for p in Path(folder).glob("*.json") if p.name.count(".") == 1]  # `{id}.json`, no sibling
        document = json.loads(path.read_text())
    return figures(document, peers)


def figures(document: dict[str, Any], peers: int) -> dict[str, Any]:
    hosts = document["metadata"]["browserHosts"]
    pages = sum(h["pagesAlive"] for h in hosts.values())
    browser_cpu = sum(h["cpuPercent"] for h in hosts.values()) / pages
    browser_mb = sum(h["pssMb"] for h in hosts.values()) / pages
    ours = [p["metrics"] for p in document["dataPoints"] if p["metrics"].get("kind") == "python"]
    last_window = max(m["window"] for m in ours)
    per_host_window = {
        (m["hostId"], m["window"]): m["hostCpuPercent"] for m in ours if WARMUP_WINDOWS < m["window"] < last_window
    }
    python_cpu = statistics.fmean(per_host_window.values()) / peers
    last = {m["hostId"]: m["hostMemoryMb"] for m in sorted(ours, key=lambda m: m["window"])}
    python_mb = sum(last.values()) / peers
    return {
        "browser_pages_alive": pages,
        "browser_cpu_percent_per_peer": round(browser_cpu, 2),
        "python_cpu_percent_per_peer": round(python_cpu, 2),
        "cpu_ratio": round(browser_cpu / python_cpu, 2),
        "browser_pss_mb_per_peer": round(browser_mb, 1),
        "python_rss_mb_per_peer": round(python_mb, 1),
        "memory_ratio": round(browser_mb / python_mb, 2),
        "steady_python_windows": len(per_host_window),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers", type=int, default=4, help="Python peers and browser peers, each")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "browser_cost.json"))
    args = parser.parse_args()
    if not (CLIENT / "bundle.js").exists():
        sys.exit(f"{CLIENT} is absent: the original system sits beside the checkout")
    rounds = []
    for number in range(args.rounds):
        rounds.append(one_round(args.peers, args.seconds))
        print(f"round {number + 1}: {rounds[-1]}", flush=True)
    keys = [k for k in rounds[0] if k != "browser_pages_alive" and k != "steady_python_windows"]
    summary = {key: median([r[key] for r in rounds]) for key in keys}
    print_table(
        f"browser peer vs Python peer, {args.peers} of each, {args.seconds:.0f} s, median of {args.rounds}",
        ["figure", "value"],
        [[key, value] for key, value in summary.items()],
    )
    write_json(args.json, "browser_cost", vars(args), {"rounds": rounds, "median": summary})


if __name__ == "__main__":
    main()
