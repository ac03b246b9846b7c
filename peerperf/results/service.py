"""The test lifecycle and datapoint intake: one implementation behind the HTTP gateway and the Ray actor.

A test is created, started, fed datapoints while ongoing and finished. Every transition is saved
to `{id}.state.json` at once, datapoints are appended to Parquet parts every flush interval, and
finishing writes `{id}.parquet` and `{id}.json` (the original's schema). A restarted service picks
a test up from its files, so a crash mid-test loses at most one flush interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import string
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peerperf.errors import ProtocolError, RequestError
from peerperf.protocol.ids import is_valid_peer_id, is_valid_test_id
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.datapoints import DatapointLog
from peerperf.results.model import DataPoint, TestInfo, not_found
from peerperf.results.settings import ResultsSettings

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Submission:
    """One datapoint as submitted: the peer and its raw metrics body."""

    peer_id: str
    metrics: Any


@dataclass(frozen=True)
class BatchResult:
    """What a batch submission did: how many were stored and why the others were refused."""

    accepted: int
    rejected: list[str] = field(default_factory=list)


class ResultsService:
    """All tests in one results folder."""

    def __init__(self, settings: ResultsSettings) -> None:
        self.settings = settings
        self.folder = Path(settings.location).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._tests: dict[str, TestInfo] = {}
        self._logs: dict[str, DatapointLog] = {}
        self._started: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # ---- paths: every path is built from a validated id ---------------------------------------

    def path(self, test_id: str, suffix: str) -> Path:
        """`{folder}/{test_id}{suffix}`, refusing any id that could leave the folder."""
        if not isinstance(test_id, str) or not is_valid_test_id(test_id):
            shown = repr(test_id)[:80]
            raise RequestError(400, "invalid-test-id", f"test ids are 1-128 letters, digits, '-' or '_'; got {shown}")
        return self.folder / f"{test_id}{suffix}"

    def _save_state(self, info: TestInfo) -> None:
        path = self.path(info.id, ".state.json")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info.to_json()))
        os.replace(tmp, path)

    def _load(self, test_id: str) -> TestInfo | None:
        state, final = self.path(test_id, ".state.json"), self.path(test_id, ".json")
        try:
            if state.exists():
                return TestInfo.from_json(json.loads(state.read_text()))
            if final.exists():  # a finished test written by the original server
                return TestInfo.from_json(json.loads(final.read_text()))
        except (ValueError, KeyError) as exc:
            raise RequestError(500, "test-unreadable", f"the files of test {test_id} are damaged: {exc}") from None
        return None

    # ---- lifecycle ----------------------------------------------------------------------------

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
        if info.ongoing and info.id not in self._logs:
            self._logs[info.id] = DatapointLog(self.path(info.id, ".parts"))

    async def create(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        """A new test (random id when none is given); 409 when the id is taken."""
        if test_id is None:
            alphabet = string.ascii_letters + string.digits
            test_id = f"{now_ms()}-{''.join(secrets.choice(alphabet) for _ in range(6))}"
        self.path(test_id, "")
        if test_id in self._tests or self._load(test_id) is not None:
            raise RequestError(409, "test-already-exists", f"a test with id {test_id!r} exists")
        info = TestInfo(test_id, now_ms() if started else None)
        self._save_state(info)
        self._remember(info)
        log.info("test %s created%s", test_id, " and started" if started else "")
        return info

    async def start(self, test_id: str) -> TestInfo:
        """Start the test; starting a started test changes nothing, a finished one is 409."""
        info = await self.get(test_id)
        if info.finished is not None:
            raise RequestError(409, "test-already-finished", f"test {test_id} has finished and cannot restart")
        if info.started is None:
            info = TestInfo(test_id, now_ms())
            self._save_state(info)
            self._remember(info)
            log.info("test %s started", test_id)
        return info

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        """Return once the test has started (no polling); `TimeoutError` after `timeout` s."""
        await self.get(test_id)
        await asyncio.wait_for(self._started[test_id].wait(), timeout)
        return self._tests[test_id]

    async def finish(self, test_id: str) -> TestInfo:
        """Finish an ongoing test and write `{id}.parquet` and `{id}.json`."""
        info = await self.get(test_id)
        async with self._lock(test_id):
            info = self._tests[test_id]
            info.require_ongoing()
            info = TestInfo(test_id, info.started, now_ms())
            self._tests[test_id] = info  # refuse datapoints from here on
            datapoints = self._logs.pop(test_id)
            await asyncio.to_thread(self._write_finished, info, datapoints)
            self._save_state(info)
        log.info("test %s finished: %s", test_id, self.path(test_id, ".json"))
        return info

    def _write_finished(self, info: TestInfo, datapoints: DatapointLog) -> None:
        datapoints.write_part(datapoints.take_buffer())
        rows = datapoints.merge_into(self.path(info.id, ".parquet"))
        final = self.path(info.id, ".json")
        tmp = final.with_suffix(".json.tmp")
        with tmp.open("w") as out:
            for chunk in _results_json(info, datapoints.iter_stored()):
                out.write(chunk)
        os.replace(tmp, final)
        datapoints.remove_parts()
        log.info("test %s: %d datapoints written", info.id, rows)

    # ---- datapoints ---------------------------------------------------------------------------

    async def submit(self, test_id: str, peer_id: str, metrics: Any) -> DataPoint:
        """Store one datapoint of an ongoing test (the HTTP route); bad input is a 400."""
        info = await self.get(test_id)
        info.require_ongoing()
        point = _datapoint(peer_id, metrics)
        await self._append(test_id, [point])
        return point

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """Store a host's batch for one interval; refused entries are reported, not fatal."""
        info = await self.get(test_id)
        info.require_ongoing()
        points, rejected = [], []
        for submission in submissions:
            try:
                points.append(_datapoint(submission.peer_id, submission.metrics))
            except RequestError as exc:
                rejected.append(f"{submission.peer_id!r}: {exc}")
        await self._append(test_id, points)
        return BatchResult(len(points), rejected)

    async def _append(self, test_id: str, points: list[DataPoint]) -> None:
        datapoints = self._logs[test_id]
        datapoints.buffer.extend(points)
        if len(datapoints.buffer) >= self.settings.flush_rows:
            await self.flush(test_id)

    async def flush(self, test_id: str) -> None:
        """Append the test's buffered datapoints to its Parquet parts."""
        async with self._lock(test_id):
            datapoints = self._logs.get(test_id)
            if datapoints is not None and datapoints.buffer:
                await asyncio.to_thread(datapoints.write_part, datapoints.take_buffer())

    async def flush_all(self) -> None:
        for test_id in list(self._logs):
            await self.flush(test_id)

    async def run_flusher(self) -> None:
        """Flush every `flush_interval` s until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(self.settings.flush_interval)
                try:
                    await self.flush_all()
                except OSError:
                    log.exception("flushing datapoints failed; they stay buffered")
        finally:
            with contextlib.suppress(OSError):
                await self.flush_all()

    async def stream_json(self, test_id: str) -> AsyncIterator[str]:
        """The whole test with its datapoints as JSON text chunks, never all in memory."""
        info = await self.get(test_id)
        final = self.path(test_id, ".json")
        if info.finished is not None and final.exists():
            with final.open() as source:
                while chunk := await asyncio.to_thread(source.read, 1 << 16):
                    yield chunk
            return
        async with self._lock(test_id):  # a consistent snapshot: no flush is half done
            datapoints = self._logs.get(test_id)
            parts = datapoints.part_files() if datapoints else []
            pending = list(datapoints.buffer) if datapoints else []
        stored = datapoints.iter_stored(parts) if datapoints else iter(())
        chunks = _results_json(info, _chain(stored, pending))
        while chunk := await asyncio.to_thread(next, chunks, ""):
            yield chunk

    def _lock(self, test_id: str) -> asyncio.Lock:
        return self._locks.setdefault(test_id, asyncio.Lock())


def _datapoint(peer_id: str, metrics: Any) -> DataPoint:
    if not isinstance(peer_id, str) or not is_valid_peer_id(peer_id):
        raise RequestError(400, "invalid-peer-id", f"invalid peer id {str(peer_id)[:80]!r}")
    try:
        return DataPoint(peer_id, now_ms(), validate_metrics(metrics))
    except ProtocolError as exc:
        raise RequestError(400, "invalid-metrics", str(exc)) from None


def _chain(stored: Iterator[list[DataPoint]], pending: list[DataPoint]) -> Iterator[list[DataPoint]]:
    yield from stored
    yield pending


def _results_json(info: TestInfo, batches: Iterator[list[DataPoint]]) -> Iterator[str]:
    """The original's TestData JSON, `{id, started, finished, dataPoints, topologyDataPoints, results}`."""
    head = json.dumps(info.to_json())[:-1]
    yield head + ',"dataPoints":['
    first = True
    for batch in batches:
        if not batch:
            continue
        text = ",".join(json.dumps(p.to_json(), separators=(",", ":")) for p in batch)
        yield text if first else "," + text
        first = False
    yield '],"topologyDataPoints":[],"results":{}}'
