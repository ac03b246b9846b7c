"""The results service through a real Ray actor: concurrent batches, start barrier, gateway, files."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest
import ray

from peerperf.cluster.actor_results_client import ActorResultsClient
from peerperf.cluster.results_actor import ResultsActor, spawn_results_actor
from peerperf.results import ResultsSettings, Submission
from tests.results.conftest import metrics_body

HOSTS, INTERVALS, PEERS_PER_HOST = 16, 5, 8


@pytest.fixture
def actor(local_ray: dict[str, Any], tmp_path: Path) -> Any:
    handle = spawn_results_actor(ResultsSettings(location=str(tmp_path), flush_interval=0.05))
    yield handle
    ray.get(handle.stop.remote())
    ray.kill(handle)


async def test_many_concurrent_batches_agree_in_json_and_parquet(actor: Any, tmp_path: Path) -> None:
    port = await actor.start.remote("127.0.0.1", 0)
    created = await actor.create_test.remote("ray-run")
    waiters = [actor.wait_started.remote("ray-run", 30) for _ in range(HOSTS)]
    ready, _ = ray.wait(waiters, timeout=0)
    assert ready == []  # nobody passes the barrier before the start
    async with aiohttp.ClientSession(raise_for_status=True) as http:  # started by an HTTP client
        await http.put(f"http://127.0.0.1:{port}/test/ray-run/start")
    started = await asyncio.gather(*waiters)
    assert {s.started for s in started} == {started[0].started} and created.started is None

    async def host(h: int) -> int:
        accepted = 0
        for interval in range(INTERVALS):
            batch = [Submission(f"h{h}p{p}", metrics_body(interval, hostId=f"h{h}")) for p in range(PEERS_PER_HOST)]
            result = await actor.submit_batch.remote("ray-run", batch)
            assert result.rejected == []
            accepted += result.accepted
        return accepted

    assert sum(await asyncio.gather(*(host(h) for h in range(HOSTS)))) == HOSTS * INTERVALS * PEERS_PER_HOST
    finished = await actor.finish_test.remote("ray-run")
    assert finished.finished is not None

    document = json.loads((tmp_path / "ray-run.json").read_text())
    frame = pd.read_parquet(tmp_path / "ray-run.parquet")
    assert len(document["dataPoints"]) == len(frame) == HOSTS * INTERVALS * PEERS_PER_HOST
    from_json = sorted((p["peerId"], p["timestamp"], p["metrics"]["sentTotal"]) for p in document["dataPoints"])
    from_parquet = sorted(zip(frame["peerId"], frame["timestamp"], frame["sentTotal"], strict=True))
    assert from_json == from_parquet
    assert frame.groupby("peerId").size().eq(INTERVALS).all() and frame["hostId"].nunique() == HOSTS


async def test_batch_reports_bad_entries_and_keeps_good_ones(actor: Any) -> None:
    await actor.start.remote()
    await actor.create_test.remote("mixed", True)
    result = await actor.submit_batch.remote(
        "mixed", [Submission("good", metrics_body()), Submission("bad id!", metrics_body()), Submission("p", {"x": 1})]
    )
    assert result.accepted == 1 and len(result.rejected) == 2
    assert "invalid peer id" in result.rejected[0] and "missing key 'position'" in result.rejected[1]


async def test_the_actor_client_covers_results_topology_metadata_and_the_clock(actor: Any, tmp_path: Path) -> None:
    client = ActorResultsClient(actor)
    await actor.start.remote()
    before = time.time() * 1000
    assert before <= await client.server_time_ms() <= time.time() * 1000
    await client.create_test("full")
    info = await client.set_metadata("full", {"peers": 2})
    assert info.metadata == {"peers": 2}
    await client.start_test("full")
    await client.set_metadata("full", {"routine": "idle"})
    await client.submit_batch("full", [Submission("a", metrics_body(1))])
    await client.submit_topology("full", [{"id": "a", "connectedPeerIds": []}])
    result = await client.submit_results("full", [Submission("a", {"sentTotal": 1}), Submission("bad id!", {})])
    assert result.accepted == 1 and "invalid peer id" in result.rejected[0]
    assert (await client.get_test("full")).metadata == {"peers": 2, "routine": "idle"}
    await client.finish_test("full")
    document = json.loads((tmp_path / "full.json").read_text())
    assert document["metadata"] == {"peers": 2, "routine": "idle"}
    assert document["topologyDataPoints"][0]["topology"] == [{"id": "a", "connectedPeerIds": []}]
    assert document["results"]["a"]["sentTotal"] == 1


async def test_actor_errors_reach_the_caller(actor: Any) -> None:
    with pytest.raises(Exception, match=r"no test with id"):
        await actor.get_test.remote("missing")
    with pytest.raises(Exception, match="test ids are"):
        await actor.create_test.remote("../escape")
    await actor.create_test.remote("slow")
    with pytest.raises(Exception, match="Timeout"):
        await actor.wait_started.remote("slow", 0.05)


async def test_on_a_cluster_address_the_gateway_also_answers_on_loopback_for_port_forwards(tmp_path: Path) -> None:
    actor = ResultsActor(ResultsSettings(location=str(tmp_path)))
    port = await actor.start("127.0.0.2", 0)  # stands for the head's cluster address (also loopback here)
    try:
        async with aiohttp.ClientSession(raise_for_status=True) as http:
            for host in ("127.0.0.2", "127.0.0.1"):
                async with http.get(f"http://{host}:{port}/") as resp:
                    assert "peerperf" in await resp.text()
    finally:
        await actor.stop()
