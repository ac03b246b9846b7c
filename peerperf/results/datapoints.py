"""Datapoints as Arrow tables and back: the one Parquet schema of every test's datapoints.

One column per declared metric (`peerperf.protocol.metrics.FIELDS`) after the peer id and the
server timestamp; keys the schema does not declare are kept as one JSON text column, `extra`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
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


#: Rows converted per Arrow call: a conversion holds the GIL throughout (5-15 us a row), so a part's
#: table is built in slices and the event loop never waits more than a few ms for a flush.
SLICE_ROWS = 256


def to_table(points: list[DataPoint]) -> pa.Table:
    """Datapoints as an Arrow table with the shared schema (missing metrics are null)."""
    return pa.concat_tables(table_slices(points))


def table_slices(points: list[DataPoint]) -> list[pa.Table]:
    """`to_table` in tables of `SLICE_ROWS` rows (at least one table, maybe empty)."""
    return [_table(points[start : start + SLICE_ROWS]) for start in range(0, max(1, len(points)), SLICE_ROWS)]


def _table(points: list[DataPoint]) -> pa.Table:
    """The metrics dicts become one struct array, split into columns by Arrow: transposing rows into
    columns in Python took about half the time."""
    metrics = pa.array([p.metrics for p in points], type=_METRICS_STRUCT)  # keys it does not name are skipped
    extra = [None if KNOWN.issuperset(p.metrics) else _extra_json(p.metrics) for p in points]
    columns = [
        pa.array([p.peer_id for p in points], pa.string()),
        pa.array([p.timestamp for p in points], pa.int64()),
        *metrics.flatten(),
        pa.array(extra, pa.string()),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def warm_up() -> None:
    """pyarrow imports pandas on its first conversion of Python objects (0.5-1 s, holding the GIL) and
    Parquet sets up its codec on the first write: done once at start, not in the first flush."""
    pq.write_table(to_table([]), io.BytesIO(), compression="zstd")


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
