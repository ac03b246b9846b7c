"""Parquet siblings of `{id}.parquet` for a finished test: topology snapshots and peers' final results.

Both hold free-form JSON (the original stored any body), so each record keeps its body as JSON text
next to the columns every record has.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from peerperf.results.model import PeerResults, TopologyPoint

TOPOLOGY_SCHEMA = pa.schema(
    [pa.field("timestamp", pa.int64(), nullable=False), pa.field("topology", pa.string(), nullable=False)]
)
RESULTS_SCHEMA = pa.schema(
    [
        pa.field("peerId", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("results", pa.string(), nullable=False),
    ]
)


def write_topology(target: Path, points: Iterable[TopologyPoint]) -> None:
    rows = [(p.timestamp, json.dumps(p.topology)) for p in points]
    columns = {"timestamp": [r[0] for r in rows], "topology": [r[1] for r in rows]}
    _write(target, pa.Table.from_pydict(columns, schema=TOPOLOGY_SCHEMA))


def write_results(target: Path, results: Iterable[PeerResults]) -> None:
    entries = list(results)
    columns = {
        "peerId": [r.peer_id for r in entries],
        "timestamp": [r.timestamp for r in entries],
        "results": [json.dumps(r.body) for r in entries],
    }
    _write(target, pa.Table.from_pydict(columns, schema=RESULTS_SCHEMA))


def _write(target: Path, table: pa.Table) -> None:
    tmp = target.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)
