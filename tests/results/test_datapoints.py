"""Datapoints to an Arrow table and back: each row keeps its own metrics when rows differ in which
keys they carry (the table is built column by column from one struct array)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from peerperf.results.datapoints import SCHEMA, from_rows, to_table
from peerperf.results.intake import normalise
from peerperf.results.model import DataPoint
from tests.results.conftest import metrics_body


def test_rows_with_different_keys_come_back_as_they_were_stored(tmp_path: Path) -> None:
    full = normalise(metrics_body())
    minimal = normalise({"position": [1.5, 0, -2]})
    with_extra = normalise({**metrics_body(), "someUnknownKey": {"nested": [1, "a"]}, "another": 7})
    points = [
        DataPoint("peer-a", 1, full),
        DataPoint("peer-b", 2, minimal),
        DataPoint("peer-c", 3, with_extra),
        DataPoint("peer-d", 4, normalise(metrics_body(2, deliveredBySubtype={"chat": 3}, latencyChatMs=[0, 5, 7, 1]))),
    ]
    table = to_table(points)
    assert table.schema == SCHEMA and table.num_rows == 4
    assert table.column("extra").to_pylist() == [None, None, '{"someUnknownKey":{"nested":[1,"a"]},"another":7}', None]
    pq.write_table(table, tmp_path / "part.parquet")
    back = list(from_rows(pq.read_table(tmp_path / "part.parquet").to_pylist()))
    assert [(p.peer_id, p.timestamp) for p in back] == [("peer-a", 1), ("peer-b", 2), ("peer-c", 3), ("peer-d", 4)]
    assert [p.metrics for p in back] == [p.metrics for p in points]
