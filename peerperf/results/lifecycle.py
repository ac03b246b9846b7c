"""A results folder's tests through their lifecycle: created, started, given metadata, finished.

Every transition is saved to the test's state file at once, so a restarted service picks a test up
from its files; finishing writes `{id}.json` (the original's schema), `{id}.parquet` and its
topology/results siblings from the working files. What arrives while a test is ongoing is
`submissions`' job; flushing and reading it back is the service's (`service`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from peerperf.errors import RequestError
from peerperf.protocol.ids import random_id
from peerperf.protocol.wallclock import now_ms_int
from peerperf.results.document_json import results_json
from peerperf.results.model import DataPoint, TestInfo, not_found
from peerperf.results.results_folder import ResultsFolder
from peerperf.results.settings import ResultsSettings
from peerperf.results.storage import is_storage_error, remove_partial_files, storage_error
from peerperf.results.working_files import WorkingFiles

log = logging.getLogger(__name__)


class ResultsSink(Protocol):
    """What else watches a test's accepted records besides its files: the InfluxDB relay, the live page.

    A sink is told synchronously, on the service's event loop, after a record is accepted; it must only
    buffer (never block, never raise into the request that brought the record).
    """

    def datapoints(self, test_id: str, points: Sequence[DataPoint]) -> None:
        """Datapoints of an ongoing test, as stored."""

    def event(self, test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> None:
        """A run event: `start`, `finish`, `peers_lost` (fields: what it is about)."""


class TestLifecycle:
    """All tests in one results folder, and the lifecycle operations of the results API."""

    __test__ = False  # not a pytest class

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

    async def get_test(self, test_id: str) -> TestInfo:
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

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        """A new test (random id when none is given); 409 when the id is taken."""
        if test_id is None:
            test_id = f"{now_ms_int()}-{random_id(6)}"
        self.files.check(test_id)
        if test_id in self._tests or self._load(test_id) is not None:
            raise RequestError(409, "test-already-exists", f"a test with id {test_id!r} exists")
        info = self._update(TestInfo(test_id, now_ms_int() if started else None))
        log.info("test %s created%s", test_id, " and started" if started else "")
        return info

    async def start_test(self, test_id: str) -> TestInfo:
        """Start the test; starting a started test changes nothing, a finished one is 409."""
        info = await self.get_test(test_id)
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
        await self.get_test(test_id)
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
        await self.get_test(test_id)
        await asyncio.wait_for(self._started[test_id].wait(), timeout)
        return self._tests[test_id]

    async def finish_test(self, test_id: str) -> TestInfo:
        """Finish an ongoing test and write its result files."""
        await self.get_test(test_id)
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
        info = await self.get_test(test_id)
        info.require_ongoing()
        return self._working[test_id]

    def _event(self, test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.event(test_id, name, at_ms, fields)

    def _lock(self, test_id: str) -> asyncio.Lock:
        return self._locks.setdefault(test_id, asyncio.Lock())
