"""Local files for a test kept by another results server: the same `{id}.json` and `{id}.parquet`
(and siblings) a self-started run writes, so a run that joined someone's test has them too."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pyarrow.parquet as pq

from peerperf.errors import ProtocolError, RequestError
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.client import ResultsClient, bearer_headers
from peerperf.results.datapoints import METADATA_KEY, SCHEMA, to_table
from peerperf.results.folder import ResultsFolder
from peerperf.results.model import DataPoint, PeerResults, TestInfo, TopologyPoint
from peerperf.results.sidecars import write_results, write_topology

log = logging.getLogger(__name__)

#: Datapoints converted to Parquet per batch.
BATCH_ROWS = 10_000


async def wait_finished(results: ResultsClient, test_id: str, timeout: float, poll: float = 1.0) -> TestInfo:
    """The test once finished, or as it is after `timeout` s (someone else owns its finish)."""
    deadline = time.monotonic() + timeout
    while True:
        info = await results.get_test(test_id)
        if info.finished is not None or time.monotonic() >= deadline:
            return info
        await asyncio.sleep(poll)


async def download_test(base_url: str, test_id: str, folder: Path, token: str | None = None) -> tuple[Path, Path]:
    """Stream `GET /test/{id}?dataPoints=true` to `{folder}/{id}.json`, then write its Parquet files."""
    files = ResultsFolder(folder)
    json_path = files.result(test_id, ".json")
    tmp = json_path.with_suffix(".json.tmp")
    url = f"{base_url.rstrip('/')}/test/{test_id}?dataPoints=true"
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=bearer_headers(token)) as http, http.get(url) as resp:
            if resp.status >= 400:
                raise RequestError(resp.status, "download-failed", f"GET {url}: HTTP {resp.status}")
            with tmp.open("wb") as out:
                async for chunk in resp.content.iter_chunked(1 << 16):
                    out.write(chunk)
    except (aiohttp.ClientError, OSError) as exc:
        raise RequestError(503, "results-unreachable", f"GET {url} failed: {exc}") from exc
    os.replace(tmp, json_path)
    parquet_path = files.result(test_id, ".parquet")
    await asyncio.to_thread(write_parquet_files, json_path, files)
    return json_path, parquet_path


def write_parquet_files(json_path: Path, files: ResultsFolder) -> None:
    """`{id}.parquet` and its siblings from a results document (the original's schema)."""
    document: dict[str, Any] = json.loads(json_path.read_text())
    test_id = str(document["id"])
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    schema = SCHEMA.with_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    skipped = 0
    target = files.result(test_id, ".parquet")
    tmp = target.with_suffix(".parquet.tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        raw = document.get("dataPoints") or []
        for start in range(0, max(len(raw), 1), BATCH_ROWS):
            batch = []
            for entry in raw[start : start + BATCH_ROWS]:
                try:
                    batch.append(
                        DataPoint(entry["peerId"], int(entry["timestamp"]), validate_metrics(entry["metrics"]))
                    )
                except (KeyError, TypeError, ValueError, ProtocolError):
                    skipped += 1
            writer.write_table(to_table(batch).replace_schema_metadata(schema.metadata))
    os.replace(tmp, target)
    if skipped:
        log.warning("%s: %d datapoints do not fit peerperf's schema; they are in the JSON only", json_path, skipped)
    topology = [TopologyPoint(int(p["timestamp"]), p.get("topology")) for p in document.get("topologyDataPoints") or []]
    write_topology(files.result(test_id, ".topology.parquet"), topology)
    results = [
        PeerResults(peer_id, int(body.get("timestamp", 0)), {k: v for k, v in body.items() if k != "timestamp"})
        for peer_id, body in (document.get("results") or {}).items()
        if isinstance(body, dict)
    ]
    write_results(files.result(test_id, ".results.parquet"), results)
