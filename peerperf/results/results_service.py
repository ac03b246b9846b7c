"""The test lifecycle and intake: one implementation behind the HTTP gateway and the Ray actor.

A test is created, started, fed datapoints, topology snapshots and peers' final results while
ongoing, and finished. Every transition is saved to its state file at once; records are appended
to working files every flush interval; finishing writes `{id}.json` (the original's schema),
`{id}.parquet` and its topology/results siblings. A restarted service picks a test up from its
files, so a crash mid-test loses at most one flush interval.

Nothing on a request's way waits for the disk unless it must: flushes run in the background (a
worker thread, converting a slice of rows at a time so the event loop is never held for long), and
a submission waits only when `flush_rows` acknowledged datapoints are still not on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

from peerperf.errors import ProtocolError, RequestError
from peerperf.protocol.ids import is_valid_peer_id, random_id
from peerperf.protocol.metrics import kind_of
from peerperf.protocol.wallclock import now_ms, now_ms_int
from peerperf.results.datapoint_json import stored_text
from peerperf.results.datapoints import warm_up
from peerperf.results.document import results_json
from peerperf.results.folder import ResultsFolder
from peerperf.results.intake import KNOWN, normalise
from peerperf.results.model import (
    BatchResult,
    DataPoint,
    PeerResults,
    Submission,
    TestInfo,
    TopologyPoint,
    not_found,
)
from peerperf.results.parts import TEXT_CHUNK, Entry
from peerperf.results.settings import ResultsSettings
from peerperf.results.sink import ResultsSink
from peerperf.results.storage import is_storage_error, remove_partial_files, storage_error
from peerperf.results.working import Contents, WorkingFiles
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)


class ResultsService:
    """All tests in one results folder."""

    def __init__(self, settings: ResultsSettings, sinks: Sequence[ResultsSink] = ()) -> None:
        self.settings = settings
        #: Told of every accepted datapoint and run event (the InfluxDB relay, the live page).
        self.sinks = list(sinks)
        self.folder = Path(settings.location).expanduser()
        self.files = ResultsFolder(self.folder)
        self._tests: dict[str, TestInfo] = {}
        self._working: dict[str, WorkingFiles] = {}
        self._started: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._unknown_keys: dict[str, set[str]] = {}
        #: Runs the flusher; a failed flush is logged and counted (records stay buffered for the next one).
        self.supervisor = Supervisor("results service", logger=log)
        #: Set when a test's buffer reaches half of `flush_rows`: the flusher writes it without waiting
        #: for the interval, so submissions rarely reach the bound at which they wait for the disk.
        self._flush_soon = asyncio.Event()
        self._flush_soon_rows = max(1, settings.flush_rows // 2)
        warm_up()

    def _save_state(self, info: TestInfo) -> None:
        path = self.files.working(info.id, ".state.json")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info.to_json()))
        os.replace(tmp, path)

    def _load(self, test_id: str) -> TestInfo | None:
        state, final = self.files.working(test_id, ".state.json"), self.files.result(test_id, ".json")
        try:
            if state.exists():
                return TestInfo.from_json(json.loads(state.read_text()))
            if final.exists():  # a finished test written by the original server
                return TestInfo.from_json(json.loads(final.read_text()))
        except (ValueError, KeyError) as exc:
            raise RequestError(500, "test-unreadable", f"the files of test {test_id} are damaged: {exc}") from None
        return None

    async def get(self, test_id: str) -> TestInfo:
        """The test's state; 404 `test-not-found` when it exists neither in memory nor on disk."""
        info = self._tests.get(test_id)
        if info is None:
            info = self._load(test_id)
            if info is None:
                raise not_found(test_id)
            self._remember(info)
        return info

    def _remember(self, info: TestInfo) -> None:
        self._tests[info.id] = info
        event = self._started.setdefault(info.id, asyncio.Event())
        if info.started is not None:
            event.set()
        if info.ongoing and info.id not in self._working:
            self._working[info.id] = WorkingFiles(self.files, info.id)

    def _update(self, info: TestInfo) -> TestInfo:
        self._save_state(info)
        self._remember(info)
        return info

    async def create(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        """A new test (random id when none is given); 409 when the id is taken."""
        if test_id is None:
            test_id = f"{now_ms_int()}-{random_id(6)}"
        self.files.check(test_id)
        if test_id in self._tests or self._load(test_id) is not None:
            raise RequestError(409, "test-already-exists", f"a test with id {test_id!r} exists")
        info = self._update(TestInfo(test_id, now_ms_int() if started else None))
        log.info("test %s created%s", test_id, " and started" if started else "")
        return info

    async def start(self, test_id: str) -> TestInfo:
        """Start the test; starting a started test changes nothing, a finished one is 409."""
        info = await self.get(test_id)
        if info.finished is not None:
            raise RequestError(409, "test-already-finished", f"test {test_id} has finished and cannot restart")
        if info.started is None:
            async with self._lock(test_id):
                info = self._update(TestInfo(test_id, now_ms_int(), None, self._tests[test_id].metadata))
            log.info("test %s started", test_id)
            self._event(test_id, "start", info.started or now_ms_int(), {})
        return info

    async def set_metadata(self, test_id: str, metadata: dict[str, Any]) -> TestInfo:
        """Merge `metadata` into the test's (until it finishes: the files are written then)."""
        await self.get(test_id)
        if not isinstance(metadata, dict) or not all(isinstance(key, str) for key in metadata):
            raise RequestError(400, "invalid-metadata", "metadata must be an object with text keys")
        try:
            json.dumps(metadata)
        except (TypeError, ValueError) as exc:
            raise RequestError(400, "invalid-metadata", f"metadata must be JSON: {exc}") from None
        async with self._lock(test_id):
            info = self._tests[test_id]
            if info.finished is not None:
                raise RequestError(409, "test-already-finished", f"test {test_id} has finished; its files are written")
            info = self._update(TestInfo(test_id, info.started, None, {**info.metadata, **metadata}))
        lost = metadata.get("lostPeers")
        if isinstance(lost, dict) and lost:
            self._event(test_id, "peers_lost", now_ms_int(), {"count": len(lost), "peers": ",".join(sorted(lost))})
        return info

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        """Return once the test has started (no polling); `TimeoutError` after `timeout` s."""
        await self.get(test_id)
        await asyncio.wait_for(self._started[test_id].wait(), timeout)
        return self._tests[test_id]

    async def finish(self, test_id: str) -> TestInfo:
        """Finish an ongoing test and write its result files."""
        await self.get(test_id)
        async with self._lock(test_id):
            ongoing = self._tests[test_id]
            ongoing.require_ongoing()
            info = TestInfo(test_id, ongoing.started, now_ms_int(), ongoing.metadata)
            self._tests[test_id] = info  # refuse records from here on
            try:
                await asyncio.to_thread(self._write_finished, info, self._working[test_id])
            except OSError as exc:  # e.g. disk full: still ongoing, records kept, finish can be retried
                self._tests[test_id] = ongoing
                remove_partial_files(self.folder, test_id)
                if not is_storage_error(exc):
                    raise
                raise storage_error(self.folder, exc, "the test stays ongoing, nothing is lost") from exc
            del self._working[test_id]
            self._save_state(info)
        log.info("test %s finished: %s", test_id, self.files.result(test_id, ".json"))
        self._event(test_id, "finish", info.finished or now_ms_int(), {})
        return info

    def _write_finished(self, info: TestInfo, working: WorkingFiles) -> None:
        working.write_buffers()
        rows = working.datapoints.merge_into(self.files.result(info.id, ".parquet"), info.metadata)
        working.write_siblings(
            self.files.result(info.id, ".topology.parquet"), self.files.result(info.id, ".results.parquet")
        )
        final = self.files.result(info.id, ".json")
        tmp = final.with_suffix(".json.tmp")
        stored = working.stored()
        with tmp.open("w") as out:
            out.writelines(results_json(info, stored.datapoints, stored.topology, stored.results))
        os.replace(tmp, final)
        working.remove()
        log.info("test %s: %d datapoints written", info.id, rows)

    async def _ongoing(self, test_id: str) -> WorkingFiles:
        info = await self.get(test_id)
        info.require_ongoing()
        return self._working[test_id]

    async def submit(self, test_id: str, peer_id: str, metrics: Any) -> DataPoint:
        """Store one datapoint of an ongoing test (the HTTP route); bad input is a 400."""
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

    async def submit_topology(self, test_id: str, topology: Any) -> TopologyPoint:
        """Store a topology snapshot of an ongoing test (`topologyDataPoints`)."""
        working = await self._ongoing(test_id)
        point = TopologyPoint(now_ms_int(), topology)
        working.add_topology(point)
        return point

    async def submit_results(self, test_id: str, peer_id: str, body: Any) -> PeerResults:
        """Store a peer's final results (`results[peerId]`; a later submission replaces it)."""
        working = await self._ongoing(test_id)
        entry = _peer_results(peer_id, body)
        working.add_results(entry)
        return entry

    async def submit_results_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
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

    async def flush(self, test_id: str) -> None:
        """Append what the test received since the last flush to its working files."""
        async with self._lock(test_id):
            working = self._working.get(test_id)
            if working is not None:
                await working.flush()

    async def flush_all(self) -> None:
        for test_id in list(self._working):
            await self.flush(test_id)

    async def run_flusher(self) -> None:
        """Flush every `flush_interval` s, and whenever a test's buffer reaches half of `flush_rows`
        (after a failed flush not before the interval), until cancelled; then once more."""
        failed = False
        try:
            while True:
                if failed:
                    await asyncio.sleep(self.settings.flush_interval)
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.settings.flush_interval):
                            await self._flush_soon.wait()
                self._flush_soon.clear()
                failed = not await self._flush_all_reported("flushing records to disk")
        finally:
            await self._flush_all_reported("the last flush before stopping")

    async def _flush_all_reported(self, what: str) -> bool:
        """`flush_all`; False when it failed (logged and counted)."""
        try:
            await self.flush_all()
        except Exception as exc:
            self.supervisor.report(what, exc)
            return False
        return True

    async def stream_json(self, test_id: str) -> AsyncIterator[str]:
        """The whole test as JSON text chunks, never all in memory."""
        await self.get(test_id)
        final = self.files.result(test_id, ".json")
        async with self._lock(test_id):  # a consistent snapshot: no flush, and no finish, is half done
            info = self._tests[test_id]
            working = self._working.get(test_id)
            contents = working.snapshot() if working else None
        if contents is None and final.exists():
            with final.open() as source:
                while chunk := await asyncio.to_thread(source.read, TEXT_CHUNK):
                    yield chunk
            return
        contents = contents or Contents(iter(()), iter(()), iter(()))
        chunks = results_json(info, contents.datapoints, contents.topology, contents.results)
        while (text := await asyncio.to_thread(_next_chunk, chunks)) is not None:
            yield text

    def server_time_ms(self) -> float:
        """This server's wall clock in ms, for clients estimating their clock offset."""
        return now_ms()

    def _event(self, test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.event(test_id, name, at_ms, fields)

    def _lock(self, test_id: str) -> asyncio.Lock:
        return self._locks.setdefault(test_id, asyncio.Lock())


def _next_chunk(chunks: Iterator[str]) -> str | None:
    """The next chunk (blocking: it may read Parquet), or None at the end (a chunk may be empty)."""
    return next(chunks, None)


def _check_peer_id(peer_id: str) -> None:
    if not isinstance(peer_id, str) or not is_valid_peer_id(peer_id):
        raise RequestError(400, "invalid-peer-id", f"invalid peer id {str(peer_id)[:80]!r}")


def _peer_results(peer_id: str, body: Any) -> PeerResults:
    _check_peer_id(peer_id)
    if not isinstance(body, dict):
        raise RequestError(400, "invalid-results", "a peer's results must be a JSON object")
    return PeerResults(peer_id, now_ms_int(), body)
