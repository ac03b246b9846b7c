"""Results ingest: datapoints/s into the results actor (Parquet on) vs a no-op actor, and HTTP PUT
metrics/s into the results gateway vs a bare aiohttp handler parsing the same body, driven by `wrk`.

Both comparisons are interleaved round by round in one run:

- actor: a local loopback-only Ray; peer hosts submit one batch per interval, so the driver sends
  `--batches` batches of `--batch-size` metrics bodies, `--inflight` at a time, to the real results
  actor (validation, buffering, Parquet parts, then `finish_test` writing the final files) and to a
  no-op actor with the same method;
- HTTP: `wrk` (a C client; a Python client is slower than the server) PUTs a real metrics body to
  `python -m peerperf.results` and to a bare aiohttp app (same event loop, uvloop) whose handler
  only parses the JSON, each in its own process; server CPU per request from /proc.

    python bench/results_ingest.py [--batches 200] [--batch-size 50] [--seconds 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import BENCH_DIR, median, print_table, start_service, write_json

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
    from peerperf.results.results_service import Submission
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


def bare_server() -> None:
    """The HTTP baseline: an aiohttp app on uvloop whose PUT handler parses the body and answers."""
    import uvloop
    from aiohttp import web

    from peerperf.httpserver import serving

    async def put(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"peerId": request.match_info["peer_id"], "keys": len(body)})

    async def serve() -> None:
        app = web.Application()
        app.router.add_put("/test/{test_id}/peer/{peer_id}/metrics", put)
        async with serving(app, "127.0.0.1", 0) as port:
            print(f"bare handler listening on port {port}", flush=True)
            await asyncio.Event().wait()

    uvloop.run(serve())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks of 10 ms


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
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"wrk saw failed requests:\n{out}"
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"requests": requests, "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]


def http_rounds(args: argparse.Namespace) -> list[dict[str, Any]]:
    import urllib.request

    body = json.dumps(metrics_body())
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pp-bench-") as folder:
        bare, bare_port = start_service(
            [sys.executable, str(BENCH_DIR / "results_ingest.py"), "--child"], Path(folder, "bare.log")
        )
        command = [sys.executable, "-m", "peerperf.results", "--port", "0", "--location", f"{folder}/results"]
        results, results_port = start_service(command, Path(folder, "results.log"))
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{results_port}/test", data=b'{"started": true}', method="POST"
            )
            with urllib.request.urlopen(request) as response:
                test_id = json.load(response)["id"]
            targets = (
                ("bare aiohttp handler", bare, f"http://127.0.0.1:{bare_port}/test/t/peer/p1/metrics"),
                ("results gateway", results, f"http://127.0.0.1:{results_port}/test/{test_id}/peer/p1/metrics"),
            )
            for _name, _process, url in targets:  # warm-up: imports done on first use (Parquet writing) are not timed
                wrk(url, body, 1, args.connections, folder)
            for _round in range(args.rounds):
                for name, process, url in targets:
                    cpu = cpu_seconds(process.pid)
                    run = wrk(url, body, args.seconds, args.connections, folder)
                    run["server_cpu_ms_per_request"] = (cpu_seconds(process.pid) - cpu) * 1000 / max(1, run["requests"])
                    runs.append({"server": name, "body_bytes": len(body), **run})
        finally:
            for process in (bare, results):
                process.terminate()
                process.wait(10)
    return runs


def summarise(runs: list[dict[str, Any]], key: str, figure: str, baseline: str) -> list[dict[str, Any]]:
    rows = []
    for name in dict.fromkeys(r[key] for r in runs):
        mine = [r for r in runs if r[key] == name]
        row = {key: name, figure: median([r[figure] for r in mine])}
        if "server_cpu_ms_per_request" in mine[0]:
            row["server_cpu_ms_per_request"] = median([r["server_cpu_ms_per_request"] for r in mine])
        rows.append(row)
    base = next(r for r in rows if r[key] == baseline)
    for row in rows:
        row["ratio"] = row[figure] / base[figure]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--inflight", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk duration per run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "results_ingest.json"))
    parser.add_argument("--only", choices=("actor", "http"), help="run one of the two comparisons")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bare_server()
        return
    actor: list[dict[str, Any]] = []
    actor_runs: list[dict[str, Any]] = []
    if args.only != "http":
        actor_runs = asyncio.run(actor_rounds(args))
        actor = summarise(actor_runs, "sink", "datapoints_per_second", "no-op actor")
        print_table(
            f"Batched datapoints into an actor, {args.batches} x {args.batch_size}, {args.inflight} in flight, "
            f"median of {args.rounds} interleaved rounds (baseline: no-op actor)",
            ["sink", "datapoints/s", "x baseline"],
            [[r["sink"], r["datapoints_per_second"], r["ratio"]] for r in actor],
        )
    http: list[dict[str, Any]] = []
    http_runs: list[dict[str, Any]] = []
    if args.only == "actor":
        pass
    elif shutil.which("wrk"):
        http_runs = http_rounds(args)
        http = summarise(http_runs, "server", "requests_per_second", "bare aiohttp handler")
        print_table(
            f"HTTP PUT metrics ({http_runs[0]['body_bytes']} B body), wrk -c{args.connections} {args.seconds:g} s, "
            f"median of {args.rounds} interleaved rounds (baseline: bare aiohttp handler)",
            ["server", "requests/s", "server CPU ms/request", "x baseline"],
            [[r["server"], r["requests_per_second"], r["server_cpu_ms_per_request"], r["ratio"]] for r in http],
        )
    else:
        print("\nwrk is not installed: HTTP figures skipped (apt-get install wrk)")
    parameters = {
        k: getattr(args, k) for k in ("batches", "batch_size", "inflight", "seconds", "connections", "rounds", "only")
    }
    results = {"actor": actor, "http": http, "actor_runs": actor_runs, "http_runs": http_runs}
    write_json(args.json, "results_ingest", parameters, results)


if __name__ == "__main__":
    main()
