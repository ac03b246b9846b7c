"""What arrives for an ongoing test: datapoints, topology snapshots and peers' final results.

Each record is validated and stamped on arrival, then buffered in the test's working files; nothing
here waits for the disk unless it must: a submission waits only when `flush_rows` acknowledged
datapoints are still not on disk. A resent datapoint (same peer and window) is stored once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from peerperf.errors import ProtocolError, RequestError
from peerperf.protocol.ids import is_valid_peer_id
from peerperf.protocol.metrics import kind_of
from peerperf.protocol.wallclock import now_ms_int
from peerperf.results.datapoint_json import stored_text
from peerperf.results.datapoints import warm_up
from peerperf.results.intake import KNOWN, normalise
from peerperf.results.lifecycle import ResultsSink, TestLifecycle
from peerperf.results.model import BatchResult, DataPoint, PeerResults, Submission, TopologyPoint
from peerperf.results.parts import Entry
from peerperf.results.settings import ResultsSettings
from peerperf.results.working_files import WorkingFiles

log = logging.getLogger(__name__)


class Submissions(TestLifecycle):
    """The submit operations of the results API, and their one-record forms the gateway answers with."""

    def __init__(self, settings: ResultsSettings, sinks: Sequence[ResultsSink] = ()) -> None:
        super().__init__(settings, sinks)
        self._unknown_keys: dict[str, set[str]] = {}
        #: Set when a test's buffer reaches half of `flush_rows`: the flusher writes it without waiting
        #: for the interval, so submissions rarely reach the bound at which they wait for the disk.
        self._flush_soon = asyncio.Event()
        self._flush_soon_rows = max(1, settings.flush_rows // 2)
        warm_up()

    async def submit_one(self, test_id: str, peer_id: str, metrics: Any) -> DataPoint:
        """`submit_batch` for one datapoint (the HTTP route): the stored datapoint, or a 400 for bad input."""
        working = await self._ongoing(test_id)
        entry = self._datapoint(test_id, peer_id, metrics)
        await self._append(test_id, working, [entry])
        return entry[0]  # a resent copy is answered as the first was: the sender missed that answer

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """Store a host's batch for one interval; refused entries are reported, not fatal."""
        working = await self._ongoing(test_id)
        entries, rejected = [], []
        for submission in submissions:
            try:
                entries.append(self._datapoint(test_id, submission.peer_id, submission.metrics))
            except RequestError as exc:
                rejected.append(f"{submission.peer_id!r}: {exc}")
        await self._append(test_id, working, entries)
        return BatchResult(len(entries), rejected)

    def _datapoint(self, test_id: str, peer_id: str, metrics: Any) -> Entry:
        """The datapoint and its text as `{id}.json` will hold it (made here, on arrival: see `parts`)."""
        _check_peer_id(peer_id)
        try:
            body = normalise(metrics)
            body.setdefault("kind", kind_of(body))  # every stored datapoint says which client made it
            point = DataPoint(peer_id, now_ms_int(), body)
            text = stored_text(point)
        except ProtocolError as exc:
            raise RequestError(400, "invalid-metrics", str(exc)) from None
        except UnicodeEncodeError:  # accepted, it would fail every flush of the test after it
            raise RequestError(400, "invalid-metrics", "text must be valid Unicode (no lone surrogates)") from None
        if not KNOWN.issuperset(point.metrics):  # cheaper than a set difference for the usual body
            self._warn_unknown_keys(test_id, peer_id, point.metrics.keys() - KNOWN)
        return point, text

    def _warn_unknown_keys(self, test_id: str, peer_id: str, unknown: set[str]) -> None:
        """Once per test and key: a client sending keys the schema lacks is worth knowing about, not per datapoint."""
        seen = self._unknown_keys.setdefault(test_id, set())
        new = unknown - seen
        if new:
            seen.update(new)
            log.warning(
                "test %s: peer %s sent metric keys peerperf does not know, kept: %s", test_id, peer_id, sorted(new)
            )

    async def _append(self, test_id: str, working: WorkingFiles, entries: list[Entry]) -> None:
        """Buffer the datapoints not held already (a copy counts as accepted: it was, the first time)."""
        waiting = len(working.datapoints.buffer)
        if waiting >= self.settings.max_buffered_rows:  # the disk takes nothing: memory must not grow forever
            raise RequestError(
                507,
                "insufficient-storage",
                f"the results folder {self.folder} takes no writes and {waiting} datapoints of test {test_id} "
                "already wait in memory: this submission was not stored, send it again later",
            )
        fresh: list[Entry] = []
        copies: list[DataPoint] = []
        for entry in entries:
            point = entry[0]
            if working.seen.first_arrival(point.peer_id, point.metrics.get("window")):
                fresh.append(entry)
            else:
                copies.append(point)
        if copies:
            log.warning(
                "test %s: %d datapoint(s) arrived again (a resend after a lost answer), stored once; peers %s",
                test_id,
                len(copies),
                sorted({p.peer_id for p in copies})[:3],
            )
        on_disk_at = working.datapoints.add(fresh)
        points = [point for point, _ in fresh]
        for sink in self.sinks:
            sink.datapoints(test_id, points)
        waiting = len(working.datapoints.buffer)
        if waiting >= self.settings.flush_rows:  # the bound of acknowledged datapoints not on disk
            try:
                await self._flush_through(test_id, working, on_disk_at)
            except RequestError as exc:  # stored in memory all the same: the flusher reports the disk
                if exc.http_status != 507:
                    raise
        elif waiting >= self._flush_soon_rows:
            self._flush_soon.set()

    async def _flush_through(self, test_id: str, working: WorkingFiles, on_disk_at: int) -> None:
        """Return once `on_disk_at` datapoints of the test are written: submissions waiting together
        share one flush (the first to get the lock writes everything buffered)."""
        async with self._lock(test_id):
            if working.datapoints.written < on_disk_at:
                await working.flush()

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        """Store a topology snapshot of an ongoing test (`topologyDataPoints`)."""
        working = await self._ongoing(test_id)
        point = TopologyPoint(now_ms_int(), topology)
        working.add_topology(point)

    async def submit_results_one(self, test_id: str, peer_id: str, body: Any) -> PeerResults:
        """`submit_results` for one peer (the HTTP route): the stored entry, or a 400 for bad input."""
        working = await self._ongoing(test_id)
        entry = _peer_results(peer_id, body)
        working.add_results(entry)
        return entry

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """Final results of a host's peers at once; refused entries are reported, not fatal."""
        working = await self._ongoing(test_id)
        accepted, rejected = 0, []
        for submission in submissions:
            try:
                entry = _peer_results(submission.peer_id, submission.metrics)
            except RequestError as exc:
                rejected.append(f"{submission.peer_id!r}: {exc}")
                continue
            working.add_results(entry)
            accepted += 1
        return BatchResult(accepted, rejected)


def _check_peer_id(peer_id: str) -> None:
    if not isinstance(peer_id, str) or not is_valid_peer_id(peer_id):
        raise RequestError(400, "invalid-peer-id", f"invalid peer id {str(peer_id)[:80]!r}")


def _peer_results(peer_id: str, body: Any) -> PeerResults:
    _check_peer_id(peer_id)
    if not isinstance(body, dict):
        raise RequestError(400, "invalid-results", "a peer's results must be a JSON object")
    return PeerResults(peer_id, now_ms_int(), body)
