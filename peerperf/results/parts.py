"""Incremental storage of one test's datapoints: numbered parts, each a Parquet file and its JSON text.

Datapoints are buffered in memory, each with its JSON text as the results document stores it, made
as it arrives (on the event loop: made in the flush's worker thread, the same Python work contended
for the GIL with the requests and showed in their latency). They are flushed as parts in
`.peerperf/{id}.parts/`: `part-N.json` (the texts joined by commas) then `part-N.parquet`, each
written to a temporary name and renamed. A crash leaves only whole files behind and loses at most
what was buffered since the last flush; a `.json` without its `.parquet` is a part that was never
completed, and is overwritten by the next one of that number. Finishing the test merges the
Parquet parts into `{id}.parquet` and concatenates the JSON texts into `{id}.json`, so neither
needs a test in memory nor converts a datapoint a second time. A part written without its JSON
text (by an older peerperf) is read back from Parquet.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from peerperf.results.datapoint_json import reference_text
from peerperf.results.datapoints import METADATA_KEY, SCHEMA, SLICE_ROWS, from_rows, table_slices
from peerperf.results.model import DataPoint

#: Characters of a part's JSON text read at a time when the document is written or streamed.
TEXT_CHUNK = 1 << 20
#: A buffered datapoint and its JSON text as `{id}.json` will hold it (`datapoint_json.stored_text`).
Entry = tuple[DataPoint, str]


class DatapointLog:
    """The datapoints of one test on disk, plus those buffered since the last flush."""

    def __init__(self, parts_dir: Path) -> None:
        self.parts_dir = parts_dir
        self.buffer: list[Entry] = []
        #: Datapoints buffered since this log was opened; those not in `buffer` any more are on disk.
        self.added = 0
        self._next_part = len(self.part_files()) + 1

    @property
    def written(self) -> int:
        """Of the `added` datapoints, how many are on disk (the buffer's front is removed once written)."""
        return self.added - len(self.buffer)

    def add(self, entries: list[Entry]) -> int:
        """Buffer `entries`; returns the `written` count at which all of them are on disk."""
        self.buffer.extend(entries)
        self.added += len(entries)
        return self.added

    def part_files(self) -> list[Path]:
        if not self.parts_dir.is_dir():
            return []
        return sorted(self.parts_dir.glob("part-*.parquet"))

    def write(self, entries: list[Entry]) -> None:
        """Write `entries` as the next complete part (its JSON text first); blocking, for a worker thread."""
        if not entries:
            return
        slices = table_slices([point for point, _ in entries])
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        path = self.parts_dir / f"part-{self._next_part:06d}.parquet"
        _write_text(path.with_suffix(".json"), [text for _, text in entries])
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.concat_tables(slices), tmp, compression="zstd")
        while slices:  # freed a slice at a time: a table of many chunks freed at once holds the GIL for tens of ms
            del slices[-1]
        os.replace(tmp, path)
        self._next_part += 1

    def iter_stored(self, parts: list[Path] | None = None, batch_rows: int = 5_000) -> Iterator[list[DataPoint]]:
        """Flushed datapoints (of `parts`, default all) in arrival order, a batch at a time (blocking I/O)."""
        for path in self.part_files() if parts is None else parts:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
                yield list(from_rows(batch.to_pylist()))

    def array_text(self, parts: list[Path] | None = None, pending: list[Entry] | None = None) -> Iterator[str]:
        """What the document's `dataPoints` array holds between its brackets, in pieces: the JSON text of
        `parts` (default all), then of `pending` (blocking I/O)."""
        separator = ""
        for path in self.part_files() if parts is None else parts:
            for number, piece in enumerate(self._part_text(path)):
                yield separator + piece if number == 0 else piece
            separator = ","
        if pending:
            yield separator + ",".join([text for _, text in pending])

    def _part_text(self, path: Path) -> Iterator[str]:
        text = path.with_suffix(".json")
        if not text.exists():  # written before parts had their JSON text
            for batch in self.iter_stored([path]):
                yield ",".join(reference_text(point) for point in batch)
            return
        with text.open(encoding="ascii") as source:
            while piece := source.read(TEXT_CHUNK):
                yield piece

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
        """Every file of the parts folder (parts, their JSON texts, leftovers of a crash), then the folder."""
        if self.parts_dir.is_dir():
            for path in self.parts_dir.iterdir():
                path.unlink()
            self.parts_dir.rmdir()


def _write_text(path: Path, texts: list[str]) -> None:
    """The texts joined by commas, written a slice at a time and renamed into place (joining or encoding
    the text of a big flush in one call would hold the GIL for tens of ms)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="ascii") as out:
        for start in range(0, len(texts), SLICE_ROWS):
            out.write(("," if start else "") + ",".join(texts[start : start + SLICE_ROWS]))
    os.replace(tmp, path)
