"""A test's datapoint parts: the document's text of flushed and buffered datapoints is the reference text,
whether a part has its JSON text beside it or (written by an older peerperf) only its Parquet file, and a
crash between the two files of a part leaves nothing the next write does not replace."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from peerperf.results.datapoint_json import reference_text, stored_text
from peerperf.results.intake import normalise
from peerperf.results.model import DataPoint
from peerperf.results.parts import DatapointLog, Entry
from tests.results.conftest import metrics_body


def points(first: int, count: int) -> list[DataPoint]:
    return [DataPoint(f"peer-{n}", 1_796_600_000_000 + n, normalise(metrics_body(n))) for n in range(first, count)]


def entries(batch: list[DataPoint]) -> list[Entry]:
    return [(point, stored_text(point)) for point in batch]


def flush(log: DatapointLog) -> None:
    entries = list(log.buffer)
    log.write(entries)
    del log.buffer[: len(entries)]


def document_text(log: DatapointLog) -> str:
    return "".join(log.array_text(None, list(log.buffer)))


def test_parts_and_buffered_datapoints_read_as_the_reference_text(tmp_path: Path) -> None:
    log = DatapointLog(tmp_path / "t.parts")
    everything = points(0, 7)
    log.add(entries(everything[:3]))
    flush(log)
    log.add(entries(everything[3:5]))
    flush(log)
    assert log.add(entries(everything[5:])) == 7 and log.written == 5
    assert document_text(log) == ",".join(reference_text(p) for p in everything)
    (tmp_path / "t.parts" / "part-000001.json").unlink()  # as an older peerperf wrote it: Parquet only
    assert document_text(log) == ",".join(reference_text(p) for p in everything)


def test_a_crash_between_a_parts_two_files_leaves_nothing_the_next_write_keeps(tmp_path: Path) -> None:
    parts = tmp_path / "t.parts"
    log = DatapointLog(parts)
    log.add(entries(points(0, 2)))
    flush(log)
    (parts / "part-000002.json").write_text('{"peerId":"half-written"}')  # its Parquet never landed
    (parts / "part-000002.tmp").write_text("torn")
    restarted = DatapointLog(parts)
    restarted.add(entries(points(2, 4)))
    flush(restarted)
    assert document_text(restarted) == ",".join(reference_text(p) for p in points(0, 4))
    assert pd.read_parquet(parts / "part-000002.parquet")["peerId"].tolist() == ["peer-2", "peer-3"]
    restarted.remove_parts()
    assert not parts.exists()
