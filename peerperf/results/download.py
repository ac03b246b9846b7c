"""Local files for a test kept by another results server: the same `{id}.json` and `{id}.parquet`
(and siblings) a self-started run writes, so a run that joined someone's test has them too.

A datapoint the other server kept that does not fit peerperf's schema (the original server stored any
body) stays in the JSON only; how many is logged, returned (the run's outcome shows it) and written
into the Parquet file's metadata as `parquetSkippedDatapoints`, so the file itself says it is short.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pyarrow.parquet as pq

from peerperf.errors import ProtocolError, RequestError
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.client import ResultsClient, bearer_headers
from peerperf.results.datapoints import METADATA_KEY, SCHEMA, to_table
from peerperf.results.model import DataPoint, PeerResults, TestInfo, TopologyPoint
from peerperf.results.results_folder import ResultsFolder
from peerperf.results.sibling_parquet import write_results, write_topology

log = logging.getLogger(__name__)

#: Datapoints converted to Parquet per batch.
BATCH_ROWS = 10_000
#: Key of the Parquet metadata that counts the document's datapoints left out (present only when some were).
SKIPPED_KEY = "parquetSkippedDatapoints"


@dataclass(frozen=True)
class Downloaded:
    """A downloaded test's local files, and the datapoints its Parquet file lacks."""

    json_path: Path
    parquet_path: Path
    #: Datapoints of the JSON that do not fit peerperf's schema, so are not in the Parquet files.
    skipped: int = 0


async def wait_finished(results: ResultsClient, test_id: str, timeout: float, poll: float = 1.0) -> TestInfo:
    """The test once finished, or as it is after `timeout` s (someone else owns its finish)."""
    deadline = time.monotonic() + timeout
    while True:
        info = await results.get_test(test_id)
        if info.finished is not None or time.monotonic() >= deadline:
            return info
        await asyncio.sleep(poll)


async def download_test(base_url: str, test_id: str, folder: Path, token: str | None = None) -> Downloaded:
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
    skipped = await asyncio.to_thread(write_parquet_files, json_path, files)
    return Downloaded(json_path, files.result(test_id, ".parquet"), skipped)


def write_parquet_files(json_path: Path, files: ResultsFolder) -> int:
    """`{id}.parquet` and its siblings from a results document (the original's schema); returns how many
    datapoints did not fit peerperf's schema (kept in the JSON only)."""
    document: dict[str, Any] = json.loads(json_path.read_text())
    test_id = str(document["id"])
    metadata: dict[str, Any] = document["metadata"] if isinstance(document.get("metadata"), dict) else {}
    raw = document.get("dataPoints") or []
    tables = []  # Arrow's columns are far smaller than the datapoints as Python objects
    skipped = 0
    for start in range(0, max(len(raw), 1), BATCH_ROWS):
        batch = []
        for entry in raw[start : start + BATCH_ROWS]:
            try:
                batch.append(DataPoint(entry["peerId"], int(entry["timestamp"]), validate_metrics(entry["metrics"])))
            except (KeyError, TypeError, ValueError, ProtocolError):
                skipped += 1
        tables.append(to_table(batch))
    if skipped:
        log.warning("%s: %d datapoints do not fit peerperf's schema; they are in the JSON only", json_path, skipped)
        metadata = {**metadata, SKIPPED_KEY: skipped}
    schema = SCHEMA.with_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    target = files.result(test_id, ".parquet")
    tmp = target.with_suffix(".parquet.tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for table in tables:
            writer.write_table(table.replace_schema_metadata(schema.metadata))
    os.replace(tmp, target)
    topology = [TopologyPoint(int(p["timestamp"]), p.get("topology")) for p in document.get("topologyDataPoints") or []]
    write_topology(files.result(test_id, ".topology.parquet"), topology)
    results = [
        PeerResults(peer_id, int(body.get("timestamp", 0)), {k: v for k, v in body.items() if k != "timestamp"})
        for peer_id, body in (document.get("results") or {}).items()
        if isinstance(body, dict)
    ]
    write_results(files.result(test_id, ".results.parquet"), results)
    return skipped
