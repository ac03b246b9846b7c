"""Incremental Parquet storage of one test's datapoints.

Datapoints are buffered in memory and flushed as numbered, complete Parquet files ("parts") in
`.peerperf/{id}.parts/`: each part is written to a temporary name and renamed, so a crash leaves
only whole parts behind and loses at most what was buffered since the last flush. Finishing the
test merges the parts into `{id}.parquet`. Reading streams part by part, so no test needs to fit in
memory. Keys the schema does not declare are kept as one JSON text column, `extra`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from peerperf.protocol.metrics import FIELDS, Kind, unknown_metrics
from peerperf.results.intake import KNOWN
from peerperf.results.model import DataPoint

_ARROW_TYPES = {
    Kind.NUMBER: pa.float64(),
    Kind.INTEGER: pa.int64(),
    Kind.TEXT: pa.string(),
    Kind.TEXT_LIST: pa.list_(pa.string()),
    Kind.VECTOR: pa.list_(pa.float64()),
    Kind.HISTOGRAM: pa.list_(pa.int64()),
    Kind.COUNTS: pa.map_(pa.string(), pa.int64()),
}
#: Column of the keys a client sent that `FIELDS` does not declare: a JSON object, null when none.
EXTRA = "extra"
#: One column per metric, after the peer id and the server timestamp (ms), then `extra`.
SCHEMA = pa.schema(
    [pa.field("peerId", pa.string(), nullable=False), pa.field("timestamp", pa.int64(), nullable=False)]
    + [pa.field(f.name, _ARROW_TYPES[f.kind]) for f in FIELDS]
    + [pa.field(EXTRA, pa.string())]
)
#: Schema metadata key of the test's metadata (JSON) in `{id}.parquet`.
METADATA_KEY = b"peerperf.metadata"
_METRIC_NAMES = [f.name for f in FIELDS]
_METRICS_STRUCT = pa.struct([SCHEMA.field(name) for name in _METRIC_NAMES])
#: Map columns come back from Arrow as (key, value) pairs; JSON wants objects.
_COUNTS_NAMES = frozenset(f.name for f in FIELDS if f.kind is Kind.COUNTS)
#: Metrics stored as float64 whose integral values are given back as integers, as JSON writers do.
_FLOAT_NAMES = frozenset(f.name for f in FIELDS if f.kind is Kind.NUMBER)
_VECTOR_NAMES = frozenset(f.name for f in FIELDS if f.kind is Kind.VECTOR)
#: Beyond this a float64 no longer holds every integer exactly.
_EXACT_INTEGERS = 2**53


def to_table(points: list[DataPoint]) -> pa.Table:
    """Datapoints as an Arrow table with the shared schema (missing metrics are null).

    The metrics dicts become one struct array, split into columns by Arrow: transposing rows into
    columns in Python took about half the time (of a flush, in a thread that holds the GIL)."""
    metrics = pa.array([p.metrics for p in points], type=_METRICS_STRUCT)  # keys it does not name are skipped
    extra = [None if KNOWN.issuperset(p.metrics) else _extra_json(p.metrics) for p in points]
    columns = [
        pa.array([p.peer_id for p in points], pa.string()),
        pa.array([p.timestamp for p in points], pa.int64()),
        *metrics.flatten(),
        pa.array(extra, pa.string()),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _extra_json(metrics: dict[str, Any]) -> str:
    return json.dumps(unknown_metrics(metrics), separators=(",", ":"))


def from_rows(rows: list[dict[str, Any]]) -> Iterator[DataPoint]:
    """Arrow rows back to datapoints as they were sent: nulls left out, extras back, integers as integers."""
    for row in rows:
        metrics = {name: _as_sent(name, row[name]) for name in _METRIC_NAMES if row[name] is not None}
        for name in _COUNTS_NAMES & metrics.keys():
            metrics[name] = dict(metrics[name])
        if row.get(EXTRA):
            metrics.update(json.loads(row[EXTRA]))
        yield DataPoint(row["peerId"], row["timestamp"], metrics)


def _as_sent(name: str, value: Any) -> Any:
    if name in _FLOAT_NAMES:
        return _integral(value)
    if name in _VECTOR_NAMES:
        return [_integral(v) for v in value]
    return value


def _integral(value: float) -> float | int:
    """`20.0` back as `20`: a JSON number has no separate integer type, and the original wrote `20`."""
    return int(value) if value.is_integer() and abs(value) < _EXACT_INTEGERS else value


class DatapointLog:
    """The datapoints of one test on disk, plus those buffered since the last flush."""

    def __init__(self, parts_dir: Path) -> None:
        self.parts_dir = parts_dir
        self.buffer: list[DataPoint] = []
        self._next_part = len(self.part_files()) + 1

    def part_files(self) -> list[Path]:
        if not self.parts_dir.is_dir():
            return []
        return sorted(self.parts_dir.glob("part-*.parquet"))

    def write(self, points: list[DataPoint]) -> None:
        self.write_part(points)

    def write_part(self, points: list[DataPoint]) -> Path | None:
        """Write `points` as the next complete part file; blocking, meant for a worker thread."""
        if not points:
            return None
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        path = self.parts_dir / f"part-{self._next_part:06d}.parquet"
        self._next_part += 1
        tmp = path.with_suffix(".tmp")
        pq.write_table(to_table(points), tmp, compression="zstd")
        os.replace(tmp, path)
        return path

    def iter_stored(self, parts: list[Path] | None = None, batch_rows: int = 5_000) -> Iterator[list[DataPoint]]:
        """Flushed datapoints (of `parts`, default all) in arrival order, a batch at a time (blocking I/O)."""
        for path in self.part_files() if parts is None else parts:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
                yield list(from_rows(batch.to_pylist()))

    def stored_windows(self) -> Iterator[tuple[str, object]]:
        """(peer id, window) of every flushed datapoint (blocking I/O; only two columns are read)."""
        for path in self.part_files():
            table = pq.read_table(path, columns=["peerId", "window"])
            yield from zip(table.column("peerId").to_pylist(), table.column("window").to_pylist(), strict=True)

    def merge_into(self, target: Path, metadata: dict[str, Any]) -> int:
        """Merge every part into one Parquet file at `target` (atomically), the test's metadata in its
        schema; returns the row count."""
        tmp = target.with_suffix(".parquet.tmp")
        rows = 0
        schema = SCHEMA.with_metadata({METADATA_KEY: json.dumps(metadata).encode()})
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for path in self.part_files():
                table = pq.read_table(path, schema=SCHEMA).replace_schema_metadata(schema.metadata)
                writer.write_table(table)
                rows += table.num_rows
        os.replace(tmp, target)
        return rows

    def remove_parts(self) -> None:
        for path in self.part_files():
            path.unlink()
        if self.parts_dir.is_dir():
            self.parts_dir.rmdir()
