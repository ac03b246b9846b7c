"""HTTP PUT metrics driven by `wrk` (a C client: a Python client is slower than the servers) into
servers side by side, each its own process, interleaved round by round, same body, same connections:
requests/s, the latency distribution (p50/p90/p99/max, from wrk's own histogram) and timeouts, then
the time each results server takes to finish the test wrk filled.

- a bare aiohttp app on uvloop whose handler parses the body and answers `{peerId, timestamp,
  metrics}` as the API does (the baseline: what any Python server of this route costs);
- peerperf's results gateway, standalone (`python -m peerperf.results`, uvloop, Parquet on);
- the original results server, the real one as built in `../shared/original/results-server.js`, on
  Node.js (its morgan log to a file; `STATS_SERVER_URL` empty, so it relays nowhere);
- with `--before DIR`: the gateway of another peerperf tree (`git archive <commit> peerperf analysis
  routines | tar -x -C DIR`), the same way, as "results gateway (before)".

With `--rate R` every server gets the same load, at most R requests/s (each connection waits
connections/R s before its next request, wrk's `delay`), so latencies compare at equal load rather than
each at its own saturation. wrk's latencies leave out requests that timed out (2 s), so timeouts are
reported beside them. While
wrk runs, a probe on a connection of its own asks `GET /time` every 20 ms, as a peer host estimating
its clock offset does (the bare handler and the original answer 404, through the same event loop):
its round trips show what any other client waits meanwhile. Before timing, each server gets one PUT
whose answer must be 200 with the body echoed. Server CPU per request comes from /proc (all threads
of the process); ratios are taken per round, then the median. After the rounds each results server
gets `PUT /test/{id}/finish`: the seconds until its whole answer (every datapoint) has arrived.

    python bench/gateway_vs_original.py [--seconds 5] [--connections 50] [--rounds 3] [--rate R] [--before DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import BENCH_DIR, cpu_seconds, median, print_table, start_service, write_json
from results_ingest import metrics_body

#: The original system as built (read-only), beside the checkout; PEERPERF_SHARED_DIR overrides.
ORIGINAL_DIR = Path(os.environ.get("PEERPERF_SHARED_DIR", BENCH_DIR.parent.parent / "shared")) / "original"
BARE = "bare aiohttp handler"
GATEWAY = "results gateway"
BEFORE = "results gateway (before)"
ORIGINAL = "original results server"
#: Seconds between two probe requests, and how long one may take.
PROBE_INTERVAL = 0.02
PROBE_TIMEOUT = 30.0
#: wrk's own summary, printed by the script's `done` hook (latencies in microseconds).
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"timeouts":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"non_2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.timeout, e.connect, e.read, e.write, e.status))
end
"""
HEADER = ["server", "requests/s", "x baseline (bare)", "x original", "p50 ms", "p90 ms", "p99 ms", "max ms"]
HEADER += ["timeouts", "GET /time p99 ms", "GET /time max ms", "server CPU ms/request"]
#: The printed table's columns, in order.
COLUMNS = (
    "server",
    "requests_per_second",
    "x_bare",
    "x_original",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "timeouts",
    "probe_p99_ms",
    "probe_max_ms",
    "server_cpu_ms_per_request",
)


@dataclass
class Target:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    test_id: str = "t"
    #: Requests wrk completed against this server (all runs), to compare with what its finish holds.
    requests: int = 0

    @property
    def url(self) -> str:
        return f"{self.base}/test/{self.test_id}/peer/p1/metrics"


@dataclass
class Probe:
    """`GET /time` every `PROBE_INTERVAL` s on one keep-alive connection, in a thread, until stopped."""

    port: int
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Probe:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PROBE_TIMEOUT)
        while not self._stop.wait(PROBE_INTERVAL):
            start = time.perf_counter()
            try:
                connection.request("GET", "/time")
                connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                self.failures += 1
                connection.close()
                continue
            self.latencies.append(time.perf_counter() - start)
        connection.close()

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies) or [float("nan")]
        at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
        return {"probe_requests": len(self.latencies), "probe_failures": self.failures} | {
            "probe_p50_ms": at(0.5),
            "probe_p99_ms": at(0.99),
            "probe_max_ms": ordered[-1] * 1000,
        }


def bare_server() -> None:
    """The baseline: an aiohttp app on uvloop answering the metrics route as the API does, nothing more."""
    import asyncio

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
    missing += [str(path) for path in original_files() if not path.exists()]
    return missing


def original_files() -> tuple[Path, Path]:
    return ORIGINAL_DIR / "loopback-listen.cjs", ORIGINAL_DIR / "results-server.js"


def request(url: str, method: str, body: bytes) -> tuple[int, Any]:
    call = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(call, timeout=10) as response:
        return response.status, json.load(response)


def check_echo(target: Target, body: dict[str, Any]) -> dict[str, Any]:
    """One PUT before timing: the answer must be 200 with the body echoed, or the figures mean nothing."""
    status, answer = request(target.url, "PUT", json.dumps(body).encode())
    # The gateway answers with the datapoint it stored, which says which kind of client sent it (`kind`).
    stored = {k: v for k, v in (answer.get("metrics") or {}).items() if not (k == "kind" and target.name != ORIGINAL)}
    echoed = stored == body and answer.get("peerId") == "p1" and isinstance(answer.get("timestamp"), int)
    if status != 200 or not echoed:
        raise RuntimeError(f"{target.name} answered {status} {str(answer)[:300]}")
    target.requests += 1
    return {"server": target.name, "status": status, "echoed": echoed}


def wrk(
    target: Target, body: str, seconds: float, connections: int, folder: str, rate: float | None = None
) -> dict[str, Any]:
    """One wrk run (at most `rate` requests/s when given), with a `GET /time` probe beside it; wrk's
    summary, the probe's figures."""
    script = Path(folder, "put.lua")
    pace = f"function delay() return {connections * 1000 / rate:.3f} end\n" if rate else ""
    script.write_text(
        f'wrk.method = "PUT"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n'
        + pace
        + WRK_DONE
    )
    port = int(target.base.rsplit(":", 1)[1])
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), target.url]
    with Probe(port) as probe:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^WRK (\{.*\})$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    run: dict[str, Any] = json.loads(found.group(1))
    if run["non_2xx"] or run["connect_errors"]:
        raise RuntimeError(f"wrk saw failed requests against {target.name}:\n{out}")
    target.requests += run["requests"]
    run["requests_per_second"] = run["requests"] / (run["duration_us"] / 1e6)
    for name in ("p50", "p90", "p99", "max"):
        run[f"{name}_ms"] = run.pop(f"{name}_us") / 1000
    return run | probe.figures()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def create_test(base: str) -> str:
    status, answer = request(f"{base}/test", "POST", b'{"started": true}')
    assert status == 200 and answer.get("started"), answer
    test_id: str = answer["id"]
    return test_id


def gateway_command(folder: str, name: str) -> list[str]:
    """`-P`: the working directory (a checkout) must not shadow a `--before` tree on PYTHONPATH."""
    return [
        sys.executable,
        "-P",
        "-m",
        "peerperf.results",
        "--port",
        "0",
        "--location",
        f"{folder}/{name.replace(' ', '_')}",
    ]


def check_before_tree(tree: Path) -> None:
    """The `--before` tree must be what the child imports (an editable install of this checkout is not)."""
    found = subprocess.run(
        [sys.executable, "-P", "-c", "import peerperf; print(peerperf.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"--before {tree}: the child imported {found}, not that tree")


def start_targets(folder: str, before: Path | None, processes: list[subprocess.Popen[bytes]]) -> list[Target]:
    """Start the servers, each added to `processes` as it starts (for the caller to stop)."""
    bare, port = start_service([sys.executable, __file__, "--child"], Path(folder, "bare.log"))
    processes.append(bare)
    targets = [Target(BARE, bare, f"http://127.0.0.1:{port}")]
    preload, server = original_files()
    servers: list[tuple[str, list[str], dict[str, str] | None]] = [(GATEWAY, gateway_command(folder, GATEWAY), None)]
    if before is not None:
        servers.append((BEFORE, gateway_command(folder, BEFORE), {"PYTHONPATH": str(before)}))
    # The original prints the port it was given, not the one bound: so it gets a free one.
    original_env = {"PORT": str(free_port()), "TEST_RESULTS_LOCATION": f"{folder}/original", "STATS_SERVER_URL": ""}
    servers.append((ORIGINAL, ["node", "-r", str(preload), str(server)], original_env))
    for name, command, env in servers:
        process, port = start_service(command, Path(folder, f"{name.replace(' ', '_')}.log"), env=env)
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        targets.append(Target(name, process, base, create_test(base)))
    return targets


def finish(target: Target) -> dict[str, Any]:
    """`PUT /test/{id}/finish`: seconds until the whole answer arrived, and the datapoints in it."""
    call = urllib.request.Request(f"{target.base}/test/{target.test_id}/finish", method="PUT")
    start = time.perf_counter()
    with urllib.request.urlopen(call, timeout=600) as response:
        answer = response.read()
    seconds = time.perf_counter() - start
    held = answer.count(b'"peerId":')
    return {
        "server": target.name,
        "finish_seconds": seconds,
        "datapoints": held,
        "wrk_requests": target.requests,
        "finish_us_per_datapoint": seconds * 1e6 / max(1, held),
        "answer_bytes": len(answer),
    }


def rounds(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    body = metrics_body()
    text = json.dumps(body)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pp-bench-") as folder:
        processes: list[subprocess.Popen[bytes]] = []
        try:
            targets = start_targets(folder, args.before, processes)
            checks = [check_echo(target, body) for target in targets]
            for target in targets:  # warm-up: imports done on first use, the JIT
                wrk(target, text, 1, args.connections, folder)
            for number in range(args.rounds):
                first = number % len(targets)  # each server takes each slot in turn
                for target in targets[first:] + targets[:first]:
                    cpu = cpu_seconds(target.process.pid)
                    run = wrk(target, text, args.seconds, args.connections, folder, args.rate)
                    cpu = cpu_seconds(target.process.pid) - cpu
                    run["server_cpu_ms_per_request"] = cpu * 1000 / max(1, run["requests"])
                    load = round(os.getloadavg()[0], 2)
                    runs.append(
                        {"round": number, "server": target.name, "body_bytes": len(text), **run}
                        | {"load_average": load}
                    )
            finishes = [finish(target) for target in targets if target.name != BARE]
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
    return checks, runs, finishes


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per server: medians over rounds (latencies: of each round's figure; max also the worst round), and
    the medians of its per-round ratios to the others."""
    by_round = {(r["round"], r["server"]): r for r in runs}
    count = 1 + max(r["round"] for r in runs)
    names = list(dict.fromkeys(r["server"] for r in runs))
    rows = []
    for name in names:
        mine = [by_round[(n, name)] for n in range(count)]
        row: dict[str, Any] = {"server": name}
        for key in ("requests_per_second", "server_cpu_ms_per_request", "p50_ms", "p90_ms", "p99_ms", "max_ms"):
            row[key] = median([r[key] for r in mine])
        row["worst_max_ms"] = max(r["max_ms"] for r in mine)
        row["timeouts"] = sum(r["timeouts"] for r in mine)
        row["probe_p99_ms"] = median([r["probe_p99_ms"] for r in mine])
        row["probe_max_ms"] = max(r["probe_max_ms"] for r in mine)
        for other, prefix in ((BARE, "x_bare"), (ORIGINAL, "x_original")):
            for key, suffix in (("requests_per_second", ""), ("p99_ms", "_p99"), ("server_cpu_ms_per_request", "_cpu")):
                ratios = [_ratio(by_round, n, name, other, key) for n in range(count)]
                row[prefix + suffix] = median(ratios)
                row[f"{prefix}{suffix}_rounds"] = [round(r, 3) for r in ratios]
        rows.append(row)
    return rows


def _ratio(by_round: dict[tuple[int, str], dict[str, Any]], number: int, name: str, other: str, key: str) -> float:
    mine, theirs = by_round[(number, name)][key], by_round[(number, other)][key]
    return float(mine / theirs) if theirs else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk duration per run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, help="requests/s offered to each server (default: as many as it takes)")
    parser.add_argument("--before", type=Path, help="a tree holding another peerperf/, run as a fourth server")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "gateway_vs_original.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bare_server()
        return
    if missing := missing_tools():
        sys.exit(f"missing: {', '.join(missing)} (apt-get install wrk nodejs; the original lives in ../shared)")
    if args.before is not None:
        check_before_tree(args.before)
    load = os.getloadavg()[0]
    checks, runs, finishes = rounds(args)
    rows = summarise(runs)
    print_table(
        f"HTTP PUT metrics ({runs[0]['body_bytes']} B body), wrk -c{args.connections} {args.seconds:g} s"
        + (f" at most {args.rate:g} requests/s" if args.rate else "")
        + ", median of "
        f"{args.rounds} interleaved rounds; load average {load:.1f} -> {os.getloadavg()[0]:.1f}",
        HEADER,
        [[r[key] for key in COLUMNS] for r in rows],
    )
    print_table(
        "PUT /test/{id}/finish of the test each results server was filled with",
        ["server", "datapoints", "seconds", "us per datapoint"],
        [[f["server"], f["datapoints"], f["finish_seconds"], f["finish_us_per_datapoint"]] for f in finishes],
    )
    parameters = {k: getattr(args, k) for k in ("seconds", "connections", "rounds", "rate")} | {
        "before": str(args.before) if args.before else None
    }
    results = {"checks": checks, "servers": rows, "finish": finishes, "runs": runs}
    results["load_average_during"] = statistics.mean(r["load_average"] for r in runs)
    write_json(args.json, "gateway_vs_original", parameters, results)


if __name__ == "__main__":
    main()
