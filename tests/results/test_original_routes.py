"""The original's remaining routes and behaviours on the real gateway: results, topology, unknown keys,
integers, the body limit, CORS on every response, plus peerperf's metadata and clock routes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pyarrow.parquet as pq
import pytest

from peerperf.errors import RequestError
from peerperf.httpserver import serving
from peerperf.results import ResultsService, ResultsSettings, create_app
from tests.results.conftest import Gateway, metrics_body


async def started(gateway: Gateway, test_id: str = "t") -> None:
    status, _ = await gateway.call("POST", f"/test/{test_id}", json={"started": True})
    assert status == 200


async def test_unknown_keys_are_kept_and_integers_stay_integers(gateway: Gateway) -> None:
    await started(gateway)
    body = metrics_body(20, sentPerSecond=2.5, position=[1, 0, 2], newCounter=20, custom={"a": [1, "x"]})
    status, point = await gateway.call("PUT", "/test/t/peer/p/metrics", json=body)
    stored = {**body, "kind": "browser"}  # the service says which client made it (the original's keys only)
    assert status == 200 and point["metrics"] == stored
    await gateway.service.flush_all()  # from here on the datapoint is read back from Parquet
    await gateway.call("PUT", "/test/t/peer/q/metrics", json=metrics_body(3))  # a buffered one, no extras

    async with gateway.http.get(f"{gateway.base}/test/t?dataPoints=true") as resp:
        live_text = await resp.text()
    assert '"sent":20,' in live_text and '"sentPerSecond":2.5,' in live_text and '"position":[1,0,2]' in live_text
    live = json.loads(live_text)
    assert [p["metrics"] for p in live["dataPoints"]] == [stored, {**metrics_body(3), "kind": "browser"}]

    await gateway.call("PUT", "/test/t/finish")
    on_disk = (gateway.folder / "t.json").read_text()
    assert '"newCounter":20' in on_disk and '"sentTotal":20,' in on_disk
    assert json.loads(on_disk)["dataPoints"][0]["metrics"] == stored
    frame = pd.read_parquet(gateway.folder / "t.parquet")
    assert json.loads(frame["extra"].iloc[0]) == {"newCounter": 20, "custom": {"a": [1, "x"]}}
    assert frame["extra"].isna().iloc[1] and frame["sentTotal"].tolist() == [20.0, 3.0]


async def test_type_errors_in_known_keys_stay_400(gateway: Gateway) -> None:
    await started(gateway)
    status, answer = await gateway.call("PUT", "/test/t/peer/p/metrics", json=metrics_body(knownPeersCount="3", x=1))
    assert (status, answer["status"]) == (400, "invalid-metrics")
    assert "knownPeersCount: expected an integer" in answer["message"] and "'x'" not in answer["message"]


async def test_peer_results_and_topology_are_stored_and_returned(gateway: Gateway) -> None:
    await started(gateway)
    before = int(time.time() * 1000)
    status, entry = await gateway.call("PUT", "/test/t/peer/alice/results", json={"sentTotal": 5, "timestamp": 1})
    assert status == 200 and entry["sentTotal"] == 5 and entry["timestamp"] >= before  # the server's time wins
    await gateway.call("PUT", "/test/t/peer/bob/results", json={"sentTotal": 7})
    await gateway.service.flush_all()
    status, entry = await gateway.call("PUT", "/test/t/peer/alice/results", json={"sentTotal": 6})  # replaces
    topology = [{"id": "alice", "layer": "blue", "connectedPeerIds": ["bob"]}, {"id": "bob", "connectedPeerIds": []}]
    status, answer = await gateway.call("PUT", "/test/t/topology", json=topology)
    assert status == 200 and answer["id"] == "t" and answer["started"] > 0
    await gateway.service.flush_all()
    await gateway.call("PUT", "/test/t/topology", json={"any": "object"})  # still buffered

    _, live = await gateway.call("GET", "/test/t?dataPoints=true")
    assert [p["topology"] for p in live["topologyDataPoints"]] == [topology, {"any": "object"}]
    assert {peer: r["sentTotal"] for peer, r in live["results"].items()} == {"alice": 6, "bob": 7}

    status, finished = await gateway.call("PUT", "/test/t/finish")
    assert finished["topologyDataPoints"] == live["topologyDataPoints"] and finished["results"] == live["results"]
    assert json.loads((gateway.folder / "t.json").read_text()) == finished
    topology_frame = pd.read_parquet(gateway.folder / "t.topology.parquet")
    assert [json.loads(t) for t in topology_frame["topology"]] == [topology, {"any": "object"}]
    results_frame = pd.read_parquet(gateway.folder / "t.results.parquet")
    assert dict(zip(results_frame["peerId"], results_frame["results"].map(json.loads), strict=True)) == {
        "alice": {"sentTotal": 6},
        "bob": {"sentTotal": 7},
    }


async def test_results_and_topology_follow_the_lifecycle_rules(gateway: Gateway) -> None:
    await gateway.call("POST", "/test/t")
    for path in ["/test/t/peer/p/results", "/test/t/topology"]:
        status, answer = await gateway.call("PUT", path, json={})
        assert (status, answer["status"]) == (400, "test-not-started")
        assert (await gateway.call("PUT", path.replace("/t/", "/nope/"), json={}))[0] == 404
    await gateway.call("PUT", "/test/t/start")
    assert (await gateway.call("PUT", "/test/t/peer/p/results", json=[1]))[1]["status"] == "bad-request"
    assert (await gateway.call("PUT", "/test/t/topology", json="text"))[1]["status"] == "bad-request"
    assert (await gateway.call("PUT", "/test/t/peer/bad%20%20id/results", json={}))[1]["status"] == "invalid-peer-id"
    await gateway.call("PUT", "/test/t/finish")
    status, answer = await gateway.call("PUT", "/test/t/topology", json={})
    assert (status, answer["status"]) == (400, "test-already-finished")


async def test_metadata_is_merged_kept_across_restarts_and_written(gateway: Gateway, tmp_path: Path) -> None:
    await gateway.call("POST", "/test/m")
    status, info = await gateway.call("PUT", "/test/m/metadata", json={"peers": 8, "routine": "default"})
    assert status == 200 and info["metadata"] == {"peers": 8, "routine": "default"}
    await gateway.call("PUT", "/test/m/metadata", json={"peers": 9, "ping": {"interval": 0.009}})
    expected = {"peers": 9, "routine": "default", "ping": {"interval": 0.009}}
    assert (await gateway.call("GET", "/test/m"))[1]["metadata"] == expected
    assert (await gateway.call("PUT", "/test/m/metadata", json=[1]))[0] == 400

    restarted = ResultsService(ResultsSettings(location=str(gateway.folder)))  # a new process on the same folder
    assert (await restarted.get_test("m")).metadata == expected
    await restarted.start_test("m")
    await restarted.submit_one("m", "p", metrics_body())
    await restarted.finish_test("m")
    assert json.loads((gateway.folder / "m.json").read_text())["metadata"] == expected
    schema = pq.read_schema(gateway.folder / "m.parquet")
    assert json.loads(schema.metadata[b"peerperf.metadata"]) == expected

    with pytest.raises(RequestError) as refused:
        await restarted.set_metadata("m", {"late": 1})
    assert (refused.value.http_status, refused.value.code) == (409, "test-already-finished")


async def test_server_clock(gateway: Gateway) -> None:
    before = time.time() * 1000
    status, answer = await gateway.call("GET", "/time")
    after = time.time() * 1000
    assert status == 200 and isinstance(answer["now"], float) and before <= answer["now"] <= after


async def test_bodies_over_the_limit_are_413_json(tmp_path: Path) -> None:
    service = ResultsService(ResultsSettings(location=str(tmp_path), max_body_size=10_000))
    await service.create_test("big", started=True)
    async with serving(create_app(service), "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/test/big/peer/p/metrics"
        async with http.put(url, json=metrics_body(pad="x" * 20_000)) as resp:
            answer: dict[str, Any] = await resp.json()
            assert resp.status == 413 and answer["status"] == "body-too-large"
            assert "10000 bytes" in answer["message"] and resp.headers["Access-Control-Allow-Origin"] == "*"
        async with http.put(url, json=metrics_body(pad="x" * 5_000)) as resp:
            assert resp.status == 200  # under the limit, an unknown key is simply kept


async def test_cors_on_streamed_responses_errors_and_preflights(gateway: Gateway) -> None:
    await started(gateway)
    origin = {"Origin": "http://page.test"}
    checks = [
        ("GET", "/test/t?dataPoints=true", 200),
        ("GET", "/nowhere", 404),
        ("PUT", "/test/t/peer/p/metrics", 400),
        ("PUT", "/test/t/finish", 200),
        ("GET", "/test/t?dataPoints=true", 200),
    ]
    for method, path, expected in checks:
        async with gateway.http.request(method, gateway.base + path, headers=origin, json={}) as resp:
            assert resp.status == expected, path
            assert resp.headers.get("Access-Control-Allow-Origin") == "*", (method, path)
    preflight = {**origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
    async with gateway.http.options(f"{gateway.base}/test/t/topology", headers=preflight) as resp:
        assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == "*"
