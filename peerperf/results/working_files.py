"""The working files of one ongoing test, in the results folder's hidden `.peerperf/`.

Datapoints go to parts (Parquet and the document's JSON text), topology snapshots and peers' final
results to JSON-lines logs.
Each keeps what arrived since the last flush in memory; a flush appends it in a worker thread.
Readers take a snapshot (on the event loop, under the test's lock) that later appends never change.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from peerperf.results.datapoints import SLICE_ROWS
from peerperf.results.model import PeerResults, TopologyPoint
from peerperf.results.parts import DatapointLog
from peerperf.results.record_log import RecordLog
from peerperf.results.results_folder import ResultsFolder
from peerperf.results.seen_windows import SeenWindows
from peerperf.results.sibling_parquet import write_results, write_topology
from peerperf.results.storage import is_storage_error, storage_error

T = TypeVar("T")


@dataclass(frozen=True)
class Contents:
    """A test's records for one read, each produced lazily (datapoints as pieces of the document's text)."""

    datapoints: Iterator[str]
    topology: Iterator[TopologyPoint]
    results: Iterator[PeerResults]


class WorkingFiles:
    """Datapoints, topology snapshots and final results of an ongoing test."""

    def __init__(self, files: ResultsFolder, test_id: str) -> None:
        self.folder = files.root
        self.datapoints = DatapointLog(files.working(test_id, ".parts"))
        #: Windows already held, so a resent datapoint is stored once (a restarted service reads its parts).
        self.seen = SeenWindows()
        self.seen.record(self.datapoints.stored_windows())
        self.topology = RecordLog(files.working(test_id, ".topology.jsonl"))
        self.results = RecordLog(files.working(test_id, ".results.jsonl"))

    def add_topology(self, point: TopologyPoint) -> None:
        self.topology.buffer.append(point.to_json())

    def add_results(self, entry: PeerResults) -> None:
        self.results.buffer.append({"peerId": entry.peer_id, "timestamp": entry.timestamp, "body": entry.body})

    async def flush(self) -> None:
        """Append what arrived since the last flush, in worker threads; on a disk error what was not
        written stays in its buffer, so the next flush retries it in order (507 when the folder is full
        or read-only)."""
        try:
            await _flush(self.datapoints)
            await _flush(self.topology)
            await _flush(self.results)
        except OSError as exc:
            if not is_storage_error(exc):
                raise
            raise storage_error(self.folder, exc, f"{self.buffered()} records kept in memory") from exc

    def write_buffers(self) -> None:
        """Append everything buffered (blocking: for the worker thread that finishes the test)."""
        _write_buffer(self.datapoints)
        _write_buffer(self.topology)
        _write_buffer(self.results)

    def buffered(self) -> int:
        """Records received but not on disk yet."""
        return len(self.datapoints.buffer) + len(self.topology.buffer) + len(self.results.buffer)

    def snapshot(self) -> Contents:
        """Everything received so far, as it is now: flushed files up to their current end, plus buffers."""
        parts, pending = self.datapoints.part_files(), list(self.datapoints.buffer)
        topology_end, topology_pending = self.topology.stored_size(), list(self.topology.buffer)
        results_end, results_pending = self.results.stored_size(), list(self.results.buffer)
        return Contents(
            self.datapoints.array_text(parts, pending),
            _topology(itertools.chain(self.topology.iter_stored(topology_end), topology_pending)),
            _results(itertools.chain(self.results.iter_stored(results_end), results_pending)),
        )

    def stored(self) -> Contents:
        """Everything flushed (blocking reads of the results log)."""
        return Contents(
            self.datapoints.array_text(), _topology(self.topology.iter_stored()), _results(self.results.iter_stored())
        )

    def write_siblings(self, topology_path: Path, results_path: Path) -> None:
        """The flushed topology and results as their Parquet files (blocking)."""
        write_topology(topology_path, _topology(self.topology.iter_stored()))
        write_results(results_path, _results(self.results.iter_stored()))

    def remove(self) -> None:
        self.datapoints.remove_parts()
        self.topology.remove()
        self.results.remove()


class _Buffered(Protocol[T]):
    buffer: list[T]

    def write(self, records: list[T]) -> None: ...


async def _flush(log: _Buffered[T]) -> None:
    """Append the buffer in a worker thread, then drop what was written from its front: records that
    arrive meanwhile queue behind, and a failed write leaves everything buffered for the next try (the
    buffer's length is always what waits, which the intake's memory bound counts)."""
    records = list(log.buffer)
    if records:
        await asyncio.to_thread(log.write, records)
        del log.buffer[: len(records)]
        while records:  # freed a slice at a time: tens of thousands of datapoints at once hold the loop for long
            del records[-SLICE_ROWS:]
            await asyncio.sleep(0)


def _write_buffer(log: _Buffered[T]) -> None:
    """`_flush` for the finishing worker thread (nothing else touches the test's buffers then)."""
    records = list(log.buffer)
    if records:
        log.write(records)
        del log.buffer[: len(records)]
        while records:  # each slice is a chance for the event loop to take the GIL
            del records[-SLICE_ROWS:]


def _topology(records: Iterator[dict[str, Any]]) -> Iterator[TopologyPoint]:
    for record in records:
        yield TopologyPoint(record["timestamp"], record["topology"])


def _results(records: Iterator[dict[str, Any]]) -> Iterator[PeerResults]:
    """Each peer's latest results, in the order peers first reported (read when first iterated)."""
    latest: dict[str, PeerResults] = {}
    for record in records:
        latest[record["peerId"]] = PeerResults(record["peerId"], record["timestamp"], record["body"])
    yield from latest.values()
