"""HTTP PUT metrics/s driven by `wrk` (a C client: a Python client is slower than the servers) into
three servers, each its own process, interleaved round by round, same body, same connections:

- a bare aiohttp app on uvloop whose handler parses the body and answers `{peerId, timestamp,
  metrics}` as the API does (the baseline: what any Python server of this route costs);
- peerperf's results gateway, standalone (`python -m peerperf.results`, uvloop, Parquet on);
- the original express results server, re-created from the reference spec
  (`bench/original_results_server/`, Debian's node-express, cors and morgan "combined" to its log).

Before timing, each server gets one PUT whose answer must be 200 with the body echoed. Server CPU per
request comes from /proc (all threads of the process); ratios are taken per round, then the median.

    python bench/gateway_vs_original.py [--seconds 5] [--connections 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import BENCH_DIR, cpu_seconds, median, print_table, start_service, write_json
from results_ingest import metrics_body

ORIGINAL_SERVER = BENCH_DIR / "original_results_server" / "server.js"
#: Where Debian's node-* packages put their modules.
NODE_PATH = "/usr/share/nodejs"
BARE = "bare aiohttp handler"
GATEWAY = "results gateway"
ORIGINAL = "original express server"
#: The printed table's columns, in order.
COLUMNS = ("server", "requests_per_second", "x_bare", "x_original", "server_cpu_ms_per_request", "cpu_x_original")


@dataclass(frozen=True)
class Target:
    name: str
    process: subprocess.Popen[bytes]
    url: str


def bare_server() -> None:
    """The baseline: an aiohttp app on uvloop answering the metrics route as the API does, nothing more."""
    import uvloop
    from aiohttp import web

    from peerperf.httpserver import serving

    async def put(request: web.Request) -> web.Response:
        point = {"peerId": request.match_info["peer_id"], "timestamp": int(time.time() * 1000)}
        point["metrics"] = await request.json()
        return web.json_response(point)

    async def serve() -> None:
        app = web.Application()
        app.router.add_put("/test/{test_id}/peer/{peer_id}/metrics", put)
        async with serving(app, "127.0.0.1", 0) as port:
            print(f"bare handler listening on port {port}", flush=True)
            await asyncio.Event().wait()

    uvloop.run(serve())


def missing_tools() -> list[str]:
    missing = [tool for tool in ("wrk", "node") if shutil.which(tool) is None]
    if not all(Path(NODE_PATH, module).is_dir() for module in ("express", "cors", "morgan")):
        missing.append("node-express node-cors node-morgan")
    return missing


def request(url: str, method: str, body: bytes) -> tuple[int, Any]:
    call = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(call, timeout=10) as response:
        return response.status, json.load(response)


def check_echo(target: Target, body: dict[str, Any]) -> dict[str, Any]:
    """One PUT before timing: the answer must be 200 with the body echoed, or the figures mean nothing."""
    status, answer = request(target.url, "PUT", json.dumps(body).encode())
    echoed = answer.get("metrics") == body and answer.get("peerId") == "p1" and isinstance(answer.get("timestamp"), int)
    if status != 200 or not echoed:
        raise RuntimeError(f"{target.name} answered {status} {str(answer)[:300]}")
    return {"server": target.name, "status": status, "echoed": echoed}


def wrk(url: str, body: str, seconds: float, connections: int, folder: str) -> dict[str, Any]:
    script = Path(folder, "put.lua")
    script.write_text(
        f'wrk.method = "PUT"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if failed := re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out):
        raise RuntimeError(f"wrk saw failed requests ({failed.group(0)}):\n{out}")
    requests = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if requests is None or rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return {"requests": int(requests.group(1)), "requests_per_second": float(rate.group(1))}


def create_test(base: str) -> str:
    status, answer = request(f"{base}/test", "POST", b'{"started": true}')
    assert status == 200 and answer.get("started"), answer
    test_id: str = answer["id"]
    return test_id


def start_targets(folder: str, processes: list[subprocess.Popen[bytes]]) -> list[Target]:
    """Start the three servers, each added to `processes` as it starts (for the caller to stop)."""
    bare, port = start_service([sys.executable, __file__, "--child"], Path(folder, "bare.log"))
    processes.append(bare)
    targets = [Target(BARE, bare, f"http://127.0.0.1:{port}/test/t/peer/p1/metrics")]
    node_env = {
        "PORT": "0",
        "TEST_RESULTS_LOCATION": f"{folder}/original",
        "STATS_SERVER_URL": "",
        "NODE_PATH": NODE_PATH,
    }
    servers = (
        (GATEWAY, [sys.executable, "-m", "peerperf.results", "--port", "0", "--location", f"{folder}/gateway"], None),
        (ORIGINAL, ["node", str(ORIGINAL_SERVER)], node_env),
    )
    for name, command, env in servers:
        process, port = start_service(command, Path(folder, f"{name.replace(' ', '_')}.log"), env=env)
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        targets.append(Target(name, process, f"{base}/test/{create_test(base)}/peer/p1/metrics"))
    return targets


def rounds(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    body = metrics_body()
    text = json.dumps(body)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pp-bench-") as folder:
        processes: list[subprocess.Popen[bytes]] = []
        try:
            targets = start_targets(folder, processes)
            checks = [check_echo(target, body) for target in targets]
            for target in targets:  # warm-up: imports done on first use (Parquet writing), the JIT
                wrk(target.url, text, 1, args.connections, folder)
            for number in range(args.rounds):
                first = number % len(targets)  # each server takes each slot in turn
                for target in targets[first:] + targets[:first]:
                    cpu = cpu_seconds(target.process.pid)
                    run = wrk(target.url, text, args.seconds, args.connections, folder)
                    cpu = cpu_seconds(target.process.pid) - cpu
                    run["server_cpu_ms_per_request"] = cpu * 1000 / max(1, run["requests"])
                    load = round(os.getloadavg()[0], 2)
                    runs.append(
                        {"round": number, "server": target.name, "body_bytes": len(text), **run, "load_average": load}
                    )
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
    return checks, runs


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per server: median req/s and CPU/request, and the medians of its per-round ratios to the others."""
    by_round = {(r["round"], r["server"]): r for r in runs}
    count = 1 + max(r["round"] for r in runs)
    rows = []
    for name in (BARE, GATEWAY, ORIGINAL):
        mine = [by_round[(n, name)] for n in range(count)]
        row: dict[str, Any] = {
            "server": name,
            "requests_per_second": median([r["requests_per_second"] for r in mine]),
            "server_cpu_ms_per_request": median([r["server_cpu_ms_per_request"] for r in mine]),
        }
        for other, key in ((BARE, "x_bare"), (ORIGINAL, "x_original")):
            ratios = [_ratio(by_round, n, name, other, "requests_per_second") for n in range(count)]
            row[key] = median(ratios)
            row[f"{key}_rounds"] = [round(r, 3) for r in ratios]
        # CPU per request moves less than req/s when other work takes the cores the servers share with wrk.
        cpu = [_ratio(by_round, n, name, ORIGINAL, "server_cpu_ms_per_request") for n in range(count)]
        row["cpu_x_original"] = median(cpu)
        row["cpu_x_original_rounds"] = [round(r, 3) for r in cpu]
        rows.append(row)
    return rows


def _ratio(by_round: dict[tuple[int, str], dict[str, Any]], number: int, name: str, other: str, key: str) -> float:
    ratio: float = by_round[(number, name)][key] / by_round[(number, other)][key]
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk duration per run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "gateway_vs_original.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bare_server()
        return
    if missing := missing_tools():
        sys.exit(f"missing: {', '.join(missing)} (apt-get install wrk nodejs node-express node-cors node-morgan)")
    load = os.getloadavg()[0]
    checks, runs = rounds(args)
    rows = summarise(runs)
    print_table(
        f"HTTP PUT metrics ({runs[0]['body_bytes']} B body), wrk -c{args.connections} {args.seconds:g} s, median of "
        f"{args.rounds} interleaved rounds; load average {load:.1f} -> {os.getloadavg()[0]:.1f}",
        ["server", "requests/s", "x baseline (bare)", "x original", "server CPU ms/request", "CPU x original"],
        [[r[key] for key in COLUMNS] for r in rows],
    )
    parameters = {k: getattr(args, k) for k in ("seconds", "connections", "rounds")}
    write_json(args.json, "gateway_vs_original", parameters, {"checks": checks, "servers": rows, "runs": runs})


if __name__ == "__main__":
    main()
