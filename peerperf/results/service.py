"""The results service: one implementation of the results API behind the HTTP gateway and the Ray actor.

A test's lifecycle is `lifecycle`'s, what arrives for it `submissions`'; here the records reach the
disk and are read back. Flushes run in the background (a worker thread, converting a slice of rows at
a time so the event loop is never held for long) every flush interval, so a crash mid-test loses at
most one interval; the whole test streams as the original's JSON without being in memory at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence

from peerperf.protocol.wallclock import now_ms
from peerperf.results.document_json import results_json
from peerperf.results.lifecycle import ResultsSink
from peerperf.results.parts import TEXT_CHUNK
from peerperf.results.settings import ResultsSettings
from peerperf.results.submissions import Submissions
from peerperf.results.working_files import Contents
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)


class ResultsService(Submissions):
    """All tests in one results folder: the results API (`peerperf.results.api.ResultsApi`), flushed and streamed."""

    def __init__(self, settings: ResultsSettings, sinks: Sequence[ResultsSink] = ()) -> None:
        super().__init__(settings, sinks)
        #: Runs the flusher; a failed flush is logged and counted (records stay buffered for the next one).
        self.supervisor = Supervisor("results service", logger=log)

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
        await self.get_test(test_id)
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

    async def server_time_ms(self) -> float:
        """This server's wall clock in ms, for clients estimating their clock offset."""
        return now_ms()


def _next_chunk(chunks: Iterator[str]) -> str | None:
    """The next chunk (blocking: it may read Parquet), or None at the end (a chunk may be empty)."""
    return next(chunks, None)
