"""The results HTTP API end to end, as the original README's manual flow, plus every error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pandas as pd
import pytest

from peerperf.protocol.metrics import FIELDS
from tests.results.conftest import Gateway, metrics_body


async def test_manual_flow_end_to_end(gateway: Gateway) -> None:
    assert await gateway.call("GET", "/status") == (200, {"status": "ok", "harnessErrors": 0})
    status, created = await gateway.call("POST", "/test")
    assert status == 200 and set(created) == {"id", "metadata"}
    test_id = created["id"]
    assert await gateway.call("GET", f"/test/{test_id}") == (200, {"id": test_id, "metadata": {}})
    status, started = await gateway.call("PUT", f"/test/{test_id}/start")
    assert status == 200 and started["started"] > 0
    for n, peer in enumerate(["alice", "bob", "alice"]):
        status, point = await gateway.call("PUT", f"/test/{test_id}/peer/{peer}/metrics", json=metrics_body(n))
        assert status == 200
        assert point["peerId"] == peer and point["metrics"]["sentTotal"] == n and point["timestamp"] > 0
    status, live = await gateway.call("GET", f"/test/{test_id}?dataPoints=true")
    assert [p["peerId"] for p in live["dataPoints"]] == ["alice", "bob", "alice"]
    assert "finished" not in live
    status, finished = await gateway.call("PUT", f"/test/{test_id}/finish")  # the whole test, as the original
    assert status == 200 and finished["finished"] >= finished["started"]

    on_disk = json.loads((gateway.folder / f"{test_id}.json").read_text())
    assert finished == on_disk
    assert on_disk.keys() == {"id", "started", "finished", "metadata", "dataPoints", "topologyDataPoints", "results"}
    assert on_disk["dataPoints"][1]["metrics"] == {**metrics_body(1), "kind": "browser"}  # the original's keys only
    _, served = await gateway.call("GET", f"/test/{test_id}?dataPoints=true")
    assert served == on_disk
    frame = pd.read_parquet(gateway.folder / f"{test_id}.parquet")
    assert list(frame.columns) == ["peerId", "timestamp", *(f.name for f in FIELDS), "extra"]
    assert frame["sentTotal"].tolist() == [0, 1, 2]
    assert frame["position"].map(list).tolist() == [[1.5, 0.0, -2.0]] * 3
    # The folder holds what the original's held plus Parquet; working state is hidden.
    visible = sorted(p.name for p in gateway.folder.iterdir() if not p.name.startswith("."))
    suffixes = [".json", ".parquet", ".results.parquet", ".topology.parquet"]
    assert visible == sorted(f"{test_id}{suffix}" for suffix in suffixes)
    assert [p.name for p in (gateway.folder / ".peerperf").iterdir()] == [f"{test_id}.state.json"]


async def test_create_with_id_and_started(gateway: Gateway) -> None:
    status, body = await gateway.call("POST", "/test/my-run_1", json={"started": True})
    assert status == 200 and body["id"] == "my-run_1" and body["started"] > 0
    assert await gateway.call("POST", "/test/my-run_1") == (
        409,
        {"status": "test-already-exists", "message": "a test with id 'my-run_1' exists"},
    )


async def test_lifecycle_errors(gateway: Gateway) -> None:
    assert (await gateway.call("GET", "/test/nope"))[1]["status"] == "test-not-found"
    for method, path in [
        ("PUT", "/test/nope/start"),
        ("PUT", "/test/nope/finish"),
        ("PUT", "/test/nope/peer/p/metrics"),
    ]:
        status, body = await gateway.call(method, path, json=metrics_body())
        assert (status, body["status"]) == (404, "test-not-found")
    await gateway.call("POST", "/test/t1")
    status, body = await gateway.call("PUT", "/test/t1/peer/p/metrics", json=metrics_body())
    assert (status, body["status"]) == (400, "test-not-started")
    assert (await gateway.call("PUT", "/test/t1/finish"))[1]["status"] == "test-not-started"
    _, first = await gateway.call("PUT", "/test/t1/start")
    _, again = await gateway.call("PUT", "/test/t1/start")
    assert again == first  # starting twice keeps the first start time
    await gateway.call("PUT", "/test/t1/finish")
    status, body = await gateway.call("PUT", "/test/t1/start")
    assert (status, body["status"]) == (409, "test-already-finished")
    status, body = await gateway.call("PUT", "/test/t1/peer/p/metrics", json=metrics_body())
    assert (status, body["status"]) == (400, "test-already-finished")
    assert (await gateway.call("PUT", "/test/t1/finish"))[0] == 400


@pytest.mark.parametrize(
    "body,problem",
    [
        ({"sent": 1}, "missing key 'position'"),
        ({**metrics_body(), "sent": "many"}, "sent: expected a finite number"),
        ({**metrics_body(), "position": [1]}, "position: expected [x, y, z]"),
        ({**metrics_body(), "connectedPeers": [1]}, "connectedPeers: expected a list of ids"),
        ({**metrics_body(), "knownPeersCount": 1.5}, "knownPeersCount: expected an integer"),
    ],
)
async def test_bad_metrics_bodies_are_400_and_store_nothing(
    gateway: Gateway, body: dict[str, object], problem: str
) -> None:
    await gateway.call("POST", "/test/t", json={"started": True})
    status, answer = await gateway.call("PUT", "/test/t/peer/p/metrics", json=body)
    assert status == 400 and answer["status"] == "invalid-metrics" and problem in answer["message"]
    _, test = await gateway.call("GET", "/test/t?dataPoints=true")
    assert test["dataPoints"] == []


async def test_text_utf8_cannot_hold_is_a_400_and_does_not_poison_the_flushes(gateway: Gateway) -> None:
    """Before, a lone surrogate (valid JSON: `"\\ud800"`) was accepted, then failed every flush of the test."""
    await gateway.call("POST", "/test/t", json={"started": True})
    status, answer = await gateway.call("PUT", "/test/t/peer/p/metrics", json=metrics_body(1, room="\ud800"))
    assert status == 400 and answer["status"] == "invalid-metrics" and "valid Unicode" in answer["message"]
    status, _ = await gateway.call("PUT", "/test/t/peer/p/metrics", json=metrics_body(2, room="é"))
    assert status == 200
    status, document = await gateway.call("PUT", "/test/t/finish")
    assert status == 200 and [p["metrics"]["room"] for p in document["dataPoints"]] == ["é"]


async def test_malformed_json_and_bad_peer_ids(gateway: Gateway) -> None:
    await gateway.call("POST", "/test/t", json={"started": True})
    status, body = await gateway.call(
        "PUT", "/test/t/peer/p/metrics", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (status, body["status"]) == (400, "bad-request")
    status, body = await gateway.call("PUT", "/test/t/peer/p/metrics", json=[1, 2])
    assert (status, body["status"]) == (400, "bad-request")
    status, body = await gateway.call("PUT", "/test/t/peer/bad%20%20id/metrics", json=metrics_body())
    assert (status, body["status"]) == (400, "invalid-peer-id")
    status, body = await gateway.call("POST", "/test/t2", data=b"nope")
    assert status == 400


HOSTILE_IDS = [
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "%2E%2E",
    "a%2Fb",
    "a%5Cb",
    "a%00b",
    "x" * 200,
    "a.json",
    "%2e%2e%2f%2e%2e%2fescape",
    "%E2%80%AE",
    "a%20b",
]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
async def test_hostile_ids_never_reach_the_filesystem(gateway: Gateway, tmp_path: Path, hostile: str) -> None:
    before = sorted(tmp_path.rglob("*"))
    for method, path in [
        ("POST", f"/test/{hostile}"),
        ("GET", f"/test/{hostile}"),
        ("GET", f"/test/{hostile}?dataPoints=true"),
        ("PUT", f"/test/{hostile}/start"),
        ("PUT", f"/test/{hostile}/finish"),
        ("PUT", f"/test/{hostile}/peer/p/metrics"),
    ]:
        status, body = await gateway.call(method, path, json=metrics_body())
        assert status in (400, 404), (method, path, status)
        assert isinstance(body, dict) and body["status"] in ("invalid-test-id", "not-found"), body
    assert sorted(tmp_path.rglob("*")) == before


async def test_service_refuses_escaping_ids_before_any_path_is_built(gateway: Gateway) -> None:
    for hostile in ["../x", "a/b", "a\x00b", "", "..", "x" * 129]:
        with pytest.raises(Exception, match="test ids are"):
            gateway.service.files.result(hostile, ".json")


async def test_cors_for_browser_clients(gateway: Gateway) -> None:
    headers = {
        "Origin": "http://page.test",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
    }
    async with gateway.http.options(f"{gateway.base}/test/x/peer/p/metrics", headers=headers) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "PUT" in resp.headers["Access-Control-Allow-Methods"]
        assert "content-type" in resp.headers["Access-Control-Allow-Headers"]
    async with gateway.http.get(f"{gateway.base}/test/nope") as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_a_test_read_while_it_finishes_comes_back_whole(gateway: Gateway) -> None:
    """A test is marked finished before its file is written: a read in between must still see every datapoint."""
    await gateway.call("POST", "/test/racing", json={"started": True})
    for n in range(50):
        await gateway.call("PUT", f"/test/racing/peer/p{n}/metrics", json=metrics_body(n))
    finishing = asyncio.create_task(gateway.call("PUT", "/test/racing/finish"))
    while not (await gateway.service.get_test("racing")).finished:
        await asyncio.sleep(0)  # step the loop until the finish has marked the test
    status, document = await gateway.call("GET", "/test/racing?dataPoints=true")
    assert status == 200 and len(document["dataPoints"]) == 50
    assert (await finishing)[0] == 200
