"""A test kept by another results server becomes the same local files a self-started run writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from peerperf.errors import RequestError
from peerperf.results.download import SKIPPED_KEY, download_test
from tests.results.conftest import MIXED_DOCUMENT, Gateway, document_server, metrics_body


async def test_download_writes_json_and_parquet_like_a_finished_test(gateway: Gateway, tmp_path: Path) -> None:
    await gateway.call("POST", "/test/remote", json={"started": True})
    await gateway.call("PUT", "/test/remote/metadata", json={"peers": 2})
    await gateway.call("PUT", "/test/remote/peer/a/metrics", json=metrics_body(1, newKey=5))
    await gateway.call("PUT", "/test/remote/peer/b/metrics", json=metrics_body(2))
    await gateway.call("PUT", "/test/remote/topology", json=[{"id": "a", "connectedPeerIds": ["b"]}])
    await gateway.call("PUT", "/test/remote/peer/a/results", json={"sentTotal": 1})
    _, served = await gateway.call("GET", "/test/remote?dataPoints=true")  # not finished: saved as it is

    local = tmp_path / "local"
    downloaded = await download_test(gateway.base, "remote", local)
    json_path, parquet_path = downloaded.json_path, downloaded.parquet_path
    assert downloaded.skipped == 0
    assert json.loads(json_path.read_text()) == served
    frame = pd.read_parquet(parquet_path)
    assert frame["peerId"].tolist() == ["a", "b"] and frame["sentTotal"].tolist() == [1, 2]
    assert json.loads(frame["extra"].iloc[0]) == {"newKey": 5}
    assert json.loads(pq.read_schema(parquet_path).metadata[b"peerperf.metadata"]) == {"peers": 2}
    assert len(pd.read_parquet(local / "remote.topology.parquet")) == 1
    assert pd.read_parquet(local / "remote.results.parquet")["peerId"].tolist() == ["a"]

    with pytest.raises(RequestError, match="HTTP 404"):
        await download_test(gateway.base, "missing", local)


async def test_datapoints_that_do_not_fit_the_schema_are_counted_and_the_parquet_says_so(tmp_path: Path) -> None:
    async with document_server(MIXED_DOCUMENT) as base:
        downloaded = await download_test(base, "mixed", tmp_path)
    assert downloaded.skipped == 2
    assert len(json.loads(downloaded.json_path.read_text())["dataPoints"]) == 3  # the JSON keeps them all
    assert pd.read_parquet(downloaded.parquet_path)["peerId"].tolist() == ["a"]
    metadata = json.loads(pq.read_schema(downloaded.parquet_path).metadata[b"peerperf.metadata"])
    assert metadata == {SKIPPED_KEY: 2}
