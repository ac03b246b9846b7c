"""`python -m peerperf.run` end to end on the real stack: local Ray, aiortc on loopback, real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings
from peerperf.lighthouse import create_app as lighthouse_app
from peerperf.results import ResultsService, ResultsSettings
from peerperf.results import create_app as results_app
from peerperf.settings import resolve
from tests.runcli import Run, results_document

#: The default routine originates 10 positions + 1 profile + 0.1 chats per second (pings off).
DEFAULT_RATE = 10 + 1 + 0.1
#: A ping round every ~7 s: one ping of its own plus one pong per other peer's ping.
PING_ROUND = 7.0
#: 16 s: each peer reports windows 1..8 and a partial 9th, so 7 steady ones (check_rates needs 5).
DEFAULT_RUN_SECONDS = 16


def check_rates(document: dict[str, Any], peers: int, pings: bool = False) -> None:
    """Every peer reported, originated at the routine's rate (plus pings and pongs), and heard the others."""
    frame = pd.DataFrame(
        [{"peerId": p["peerId"], "timestamp": p["timestamp"], **p["metrics"]} for p in document["dataPoints"]]
    )
    assert frame["peerId"].nunique() == peers
    assert all(ts >= document["started"] for ts in frame["timestamp"])
    for peer_id, rows in frame.sort_values("timestamp").groupby("peerId"):
        steady = rows.iloc[1:-1]  # skip the window with the random start offset, and the last partial one
        assert len(steady) >= 5, f"{peer_id}: too few windows"
        first, last = rows.iloc[1], rows.iloc[-2]
        seconds = (last["timestamp"] - first["timestamp"]) / 1000
        originated = (last["originatedTotal"] - first["originatedTotal"]) / seconds
        if pings:
            assert DEFAULT_RATE * 0.95 <= originated <= DEFAULT_RATE * 1.05 + 2 * peers / PING_ROUND, peer_id
            assert pd.notna(steady["averageLatency"].iloc[-1]), f"{peer_id}: pings are on by default"
        else:
            assert originated == pytest.approx(DEFAULT_RATE, rel=0.05), peer_id
            assert "averageLatency" not in steady or steady["averageLatency"].isna().all(), peer_id
        # The original's counting: one `sent` per connection a packet goes out on.
        expected_sent = (steady["originatedPerSecond"] * steady["connectedPeers"].map(len)).sum()
        assert steady["sentPerSecond"].sum() == pytest.approx(expected_sent, rel=0.05), peer_id
        # Every other peer's traffic arrives (relevant counts every copy received for the room).
        assert steady["relevantPerSecond"].mean() >= 0.95 * (peers - 1) * DEFAULT_RATE, peer_id
        assert (steady["tickLagP99"] >= 0).all() and steady["routine"].eq("default").all()


def check_topology_and_results(document: dict[str, Any]) -> None:
    """The lighthouse's topology was sampled during the test; every peer submitted its final results."""
    peers = {p["peerId"] for p in document["dataPoints"]}
    samples = document["topologyDataPoints"]
    assert samples, "the lighthouse's topology was never sampled"
    assert all(document["started"] <= s["timestamp"] <= document["finished"] for s in samples)
    last = samples[-1]["topology"]  # GET /layers/{layer}/topology: [{...PeerInfo, layer, connectedPeerIds}]
    assert {entry["id"] for entry in last} == peers
    assert all(entry["layer"] == "blue" and set(entry["connectedPeerIds"]) <= peers for entry in last)
    assert sum(len(entry["connectedPeerIds"]) for entry in last) >= len(peers)
    assert set(document["results"]) == peers
    assert all(
        r["sentTotal"] > 0 and r["originatedTotal"] > 0 and r["timestamp"] > 0 for r in document["results"].values()
    )


@dataclass(frozen=True)
class Finished:
    code: int
    output: str
    folder: Path


@pytest.fixture(scope="module")
def default_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Finished]:
    """Both default-routine runs (1 and 4 peers per host), one after the other: side by side on a slow CI
    machine, a host of 4 stalled for seconds at a time and closed its windows late (fewer of them), and
    the routine's rate is what these runs check."""

    async def one(per_actor: int) -> Finished:
        folder = tmp_path_factory.mktemp(f"default-{per_actor}")
        pings = per_actor == 4  # the default, as the original client's; off for the exact rate check
        run = await Run.start(
            *("--peers", "8", "--duration", str(DEFAULT_RUN_SECONDS), "--peers-per-actor", str(per_actor)),
            *("--output", str(folder), "--seed", "7", *([] if pings else ["--ping-interval", "off"])),
        )
        try:
            return Finished(await run.finish(), run.output, folder)
        finally:  # timed out: not left running
            if run.proc.returncode is None:
                run.proc.kill()
                await run.proc.wait()

    return {per_actor: asyncio.run(one(per_actor)) for per_actor in (1, 4)}


@pytest.mark.parametrize("per_actor", [1, 4])
def test_a_whole_run_with_the_default_routine(default_runs: dict[int, Finished], per_actor: int) -> None:
    run = default_runs[per_actor]
    assert run.code == 0, run.output
    assert "JSON: " in run.output and "Parquet: " in run.output and "harness check: " in run.output
    document = results_document(run.folder)
    check_rates(document, 8, pings=per_actor == 4)
    check_topology_and_results(document)
    hosts = {p["metrics"]["hostId"] for p in document["dataPoints"]}
    assert len(hosts) == 8 // per_actor
    test_id = document["id"]
    parquet = pd.read_parquet(run.folder / f"{test_id}.parquet")
    assert len(parquet) == len(document["dataPoints"])
    assert len(pd.read_parquet(run.folder / f"{test_id}.topology.parquet")) == len(document["topologyDataPoints"])
    assert len(pd.read_parquet(run.folder / f"{test_id}.results.parquet")) == 8


@pytest.fixture
async def external_results(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    settings = ResultsSettings(location=str(tmp_path / "external"), flush_interval=0.2)
    async with serving(results_app(ResultsService(settings)), "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}", Path(settings.location)


async def test_joins_a_test_created_and_started_by_another_client(
    external_results: tuple[str, Path], tmp_path: Path
) -> None:
    base, folder = external_results
    local = tmp_path / "local"
    async with aiohttp.ClientSession(raise_for_status=True) as http:
        await http.post(f"{base}/test/manual-1")  # the original README's manual flow
        run = await Run.start(
            "--peers",
            "4",
            "--duration",
            "8",
            "--results-url",
            base,
            "--test-id",
            "manual-1",
            "--peers-per-actor",
            "2",
            "--output",
            str(local),
        )
        await run.until("waiting for test manual-1 to be started")
        async with http.get(f"{base}/test/manual-1?dataPoints=true") as resp:
            assert (await resp.json())["dataPoints"] == []  # peers wait: nothing before the start
        await http.put(f"{base}/test/manual-1/start")
        await run.until("waiting for test manual-1 to be finished")
        await http.put(f"{base}/test/manual-1/finish")
        assert await run.finish() == 0, run.output
    document = json.loads((folder / "manual-1.json").read_text())
    assert {p["peerId"] for p in document["dataPoints"]} and len({p["peerId"] for p in document["dataPoints"]}) == 4
    assert min(p["timestamp"] for p in document["dataPoints"]) >= document["started"]
    # The joining run keeps the same files and prints the same summary as a self-started one.
    assert json.loads((local / "manual-1.json").read_text()) == document
    assert len(pd.read_parquet(local / "manual-1.parquet")) == len(document["dataPoints"])
    assert f"JSON: {local / 'manual-1.json'}" in run.output and "test manual-1: 4 peers" in run.output
    check_topology_and_results(document)


async def test_ctrl_c_finishes_the_test_cleanly(tmp_path: Path) -> None:
    run = await Run.start("--peers", "2", "--duration", "300", "--output", str(tmp_path), "--peers-per-actor", "2")
    await run.until("datapoints 2")  # running, and a first batch is in
    run.proc.send_signal(signal.SIGINT)
    assert await run.finish(timeout=120) == 130, run.output
    document = results_document(tmp_path)  # persisted and finished despite the interrupt
    assert document["finished"] >= document["started"] and len(document["dataPoints"]) >= 2
    assert "interrupted" in run.output


async def test_a_layer_size_above_the_lighthouses_capacity_stops_before_anything_starts(tmp_path: Path) -> None:
    settings = resolve(LighthouseSettings, environ={}, no_auth=True, max_per_layer=2, port=0)
    async with serving(lighthouse_app(settings), "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        run = await Run.start("--peers", "3", "--layer-size", "3", "--lighthouse-url", url, "--output", str(tmp_path))
        assert await run.finish() == 2
    assert "--layer-size 3 is above the layer capacity" in run.output and f"(2, {url}/layers)" in run.output
    assert "starting Ray" not in run.output and not list(tmp_path.iterdir())


async def test_more_peers_than_a_layer_holds_fill_layers_in_turn(tmp_path: Path) -> None:
    run = await Run.start(
        *("--peers", "12", "--max-per-layer", "6", "--peers-per-actor", "6", "--duration", "6"),
        *("--ping-interval", "off", "--stats-interval", "1000", "--output", "layers", "--seed", "4"),
        cwd=tmp_path,
    )
    assert "in 2 layers of 6" in await run.until("peers ready")  # the live view says how they are spread
    assert await run.finish() == 0, run.output
    # A relative --output is the driver's: resolved before the results service starts, and named in full.
    document = results_document(tmp_path / "layers")
    assert f"JSON: {tmp_path / 'layers' / document['id']}.json" in run.output, run.output
    layers: dict[str, set[str]] = {}
    for point in document["dataPoints"]:
        layers.setdefault(point["metrics"]["layer"], set()).add(point["peerId"])
    assert {name: len(peers) for name, peers in layers.items()} == {"blue-1": 6, "blue-2": 6}
    for point in document["dataPoints"]:  # a layer's mesh stays inside it: nobody connects across layers
        assert set(point["metrics"]["connectedPeers"]) <= layers[point["metrics"]["layer"]]
    assert re.search(r"by layer\W+2 layers of 6", run.output), run.output  # and so does the summary


async def test_peers_that_cannot_join_are_named(tmp_path: Path) -> None:
    settings = resolve(LighthouseSettings, environ={}, secret="not-shared", port=0)  # peers cannot validate
    async with serving(lighthouse_app(settings), "127.0.0.1", 0) as port:
        run = await Run.start(
            "--peers",
            "2",
            "--duration",
            "5",
            "--lighthouse-url",
            f"http://127.0.0.1:{port}",
            "--output",
            str(tmp_path),
            "--peers-per-actor",
            "2",
            "--seed",
            "1",
        )
        assert await run.finish() == 1
    assert "2 of 2 peers are not ready" in run.output and "VALIDATION_NOK" in run.output
    assert "--on-missing proceed" in run.output


async def test_bad_arguments_exit_2() -> None:
    run = await Run.start("--peers", "0", "--routine", "nope")
    assert await run.finish() == 2
    assert "--peers must be at least 1" in run.output


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid` (from /proc) with its command line."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = commands.get(child, "")
            todo.append(child)
    return found


async def test_a_host_killed_mid_test_is_named_and_fails_the_run(tmp_path: Path) -> None:
    run = await Run.start(
        "--peers", "4", "--peers-per-actor", "2", "--duration", "14", "--output", str(tmp_path), "--seed", "5"
    )
    while not re.search(r"datapoints ([4-9]|\d\d)", await run.until("[running]")):
        pass  # running, and both hosts have submitted
    hosts = [pid for pid, command in descendants(run.proc.pid).items() if "PeerHostWorker" in command]
    assert len(hosts) == 2, descendants(run.proc.pid)
    os.kill(hosts[0], signal.SIGKILL)
    assert await run.finish() == 1, run.output
    assert "2 peers lost when their host failed" in run.output
    assert "peer hosts' logs:" in run.output
    document = results_document(tmp_path)  # the test still finished, with the other host's datapoints
    reporting = {p["peerId"] for p in document["dataPoints"]}
    assert len(reporting) == 4
    last_window = max(p["metrics"]["window"] for p in document["dataPoints"])
    survivors = {p["peerId"] for p in document["dataPoints"] if p["metrics"]["window"] == last_window}
    assert len(survivors) == 2
