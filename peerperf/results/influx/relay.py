"""The relay: a results sink that batches points to InfluxDB in the background, bounded, and counts what it loses.

Accepting a record only appends its line to a bounded buffer. A writer task sends a batch when
`influx_batch_size` lines wait or every `influx_flush_interval`; a failed write is retried with
doubling backoff, then its points count as dropped. While InfluxDB is slow or down the buffer fills
and its oldest points are dropped (counted): the test, and the Parquet record, never wait for it.
The writer task runs on a supervisor: anything else a write raises is logged with its traceback,
counted (`errors`, and the supervisor's harness errors), its batch counted as dropped, and the loop
goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from peerperf.results.influx.lines import datapoint_point, event_point, to_lines
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.influx.relay_stats import RelayStats
from peerperf.results.influx.writers import LineWriter, WriteFailed, writer_for
from peerperf.results.model import DataPoint
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)


class InfluxRelay:
    """Call `start()` inside the event loop, `close()` at the end; `stats()` at any time."""

    def __init__(
        self, settings: InfluxSettings, writer: LineWriter | None = None, supervisor: Supervisor | None = None
    ) -> None:
        self.settings = settings
        #: Reports what the writer task raises unexpectedly (the results service passes its own: `/status`).
        self.supervisor = supervisor or Supervisor("InfluxDB relay", logger=log)
        self._writer = writer
        self._buffer: deque[str] = deque()
        self._in_flight = 0
        self._written = self._delayed = self._dropped = self._errors = 0
        self._last_error = ""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def datapoints(self, test_id: str, points: Sequence[DataPoint]) -> None:
        self._add(to_lines([datapoint_point(test_id, p) for p in points]))

    def event(self, test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> None:
        self._add(to_lines([event_point(test_id, name, at_ms, fields)]))

    def _add(self, lines: list[str]) -> None:
        self._buffer.extend(lines)
        overflow = len(self._buffer) - self.settings.influx_max_buffer
        if overflow > 0:
            for _ in range(overflow):
                self._buffer.popleft()
            if not self._dropped:
                log.warning("InfluxDB relay: buffer full (%d points), dropping the oldest", len(self._buffer))
            self._dropped += overflow
        if len(self._buffer) >= self.settings.influx_batch_size:
            self._wake.set()

    def stats(self) -> RelayStats:
        return RelayStats(
            self.settings.describe(),
            self._written,
            self._delayed,
            self._dropped,
            len(self._buffer) + self._in_flight,
            self._last_error,
            self._errors,
        )

    def start(self) -> None:
        if self._task is None:
            self._writer = self._writer or writer_for(self.settings)
            self._task = asyncio.create_task(self._run())
            log.info("relaying datapoints to InfluxDB: %s", self.settings.describe())

    async def drain(self, timeout: float) -> RelayStats:
        """Wait (at most `timeout` s) until everything accepted so far was written or given up."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while self.stats().pending and time.monotonic() < deadline and self._task and not self._task.done():
            await asyncio.sleep(0.05)
        return self.stats()

    async def close(self, timeout: float = 5.0) -> RelayStats:
        """Write what is pending (at most `timeout` s), then stop; what is left counts as dropped."""
        if self._task is not None:
            await self.drain(timeout)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task  # a crash of the loop itself is raised here, not lost
            self._task = None
        left = len(self._buffer) + self._in_flight
        if left:
            log.warning("InfluxDB relay stopped with %d points not written", left)
            self._dropped += left
            self._buffer.clear()
            self._in_flight = 0
        if self._writer is not None:
            await self._writer.close()
        return self.stats()

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races its timeout.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.influx_flush_interval):
                    await self._wake.wait()
            self._wake.clear()
            await self.supervisor.call(self._write_pending, "relaying points to InfluxDB")

    async def _write_pending(self) -> None:
        """Write full batches while there are any, then what is left; an unexpected failure loses the batch
        in flight (counted as dropped) and is raised for the supervisor to report."""
        try:
            while self._buffer:
                size = min(len(self._buffer), self.settings.influx_batch_size)
                batch = [self._buffer.popleft() for _ in range(size)]
                self._in_flight = size
                await self._write(batch)
                self._in_flight = 0
                if len(self._buffer) < self.settings.influx_batch_size:
                    break
        except Exception as exc:
            self._errors += 1
            self._dropped += self._in_flight
            self._in_flight = 0
            self._last_error = f"unexpected: {exc!r}"
            raise

    async def _write(self, batch: list[str]) -> None:
        assert self._writer is not None
        backoff = self.settings.influx_retry_backoff
        for attempt in range(self.settings.influx_retries + 1):
            try:
                await self._writer.write(batch)
            except WriteFailed as exc:
                self._last_error = str(exc)
                if attempt == self.settings.influx_retries:
                    log.warning(
                        "InfluxDB relay: %d points not relayed after %d tries: %s", len(batch), attempt + 1, exc
                    )
                    self._dropped += len(batch)
                    return
                await asyncio.sleep(backoff)
                backoff *= 2
            else:
                self._written += len(batch)
                if attempt:
                    self._delayed += len(batch)
                return
