"""Records a peer host could not deliver yet: kept in order, bounded, retried with a growing pause.

While an HTTP results service is down (killed, restarting), a host's datapoints wait here instead of
being lost, and the host's stats loop is never held up: a submission that finds the service away
queues its records and returns. The next submission after the pause tries the queue again, oldest
first; `drain` keeps trying (bounded) at the end of a run. When the queue is full its oldest record
is dropped and named: a gap is never silent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from peerperf.errors import RequestError
from peerperf.results.model import BatchResult, Submission

log = logging.getLogger(__name__)

#: HTTP statuses that mean "the service is away, overloaded or out of disk, try again", not "this record is bad".
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504, 507})


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a host keeps trying an unreachable results service."""

    #: Pause after the first failure, doubled after each next one.
    first_pause: float = 0.25
    #: The longest pause between two attempts.
    max_pause: float = 4.0
    #: Records kept while the service is away; beyond, the oldest are dropped (and named).
    max_pending: int = 20_000
    #: How long `drain` keeps trying at the end of a run before the rest counts as lost.
    drain_timeout: float = 60.0


@dataclass(frozen=True)
class Pending:
    """One record to deliver: its route and the peer's submission."""

    path: str
    submission: Submission


def is_transient(exc: RequestError) -> bool:
    return exc.http_status in TRANSIENT_STATUSES


Send = Callable[[list[Pending]], Awaitable[list[RequestError | None]]]


class Outbox:
    """Undelivered records in submission order, with the pause before the next attempt."""

    def __init__(self, send: Send, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self.policy = policy
        self._clock = clock
        self._queue: deque[Pending] = deque()
        self._pause = 0.0
        self._retry_at = 0.0
        #: Attempts that found the service away, and records dropped because the queue was full.
        self.failed_attempts = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def deliver(self, records: list[Pending], chunk: int) -> BatchResult:
        """Queue `records` and, unless pausing after a failure, send the queue oldest first.

        `accepted` counts records of this and earlier calls stored now; `rejected` names records the
        service refused (bad input, not retried) and records dropped from a full queue.
        """
        rejected = self._enqueue(records)
        if self._clock() < self._retry_at:
            return BatchResult(0, rejected)
        accepted = 0
        while self._queue:
            batch = [self._queue[i] for i in range(min(chunk, len(self._queue)))]
            outcomes = await self._send(batch)
            away = [p for p, e in zip(batch, outcomes, strict=True) if e is not None and is_transient(e)]
            for _ in batch:
                self._queue.popleft()
            self._queue.extendleft(reversed(away))  # back in front, in their order
            for pending, error in zip(batch, outcomes, strict=True):
                if error is None:
                    accepted += 1
                elif not is_transient(error):
                    rejected.append(f"{pending.submission.peer_id!r}: {error}")
            if away:
                self._back_off(next(e for e in outcomes if e is not None and is_transient(e)))
                break
            self._pause = 0.0
        return BatchResult(accepted, rejected)

    async def drain(self, chunk: int) -> BatchResult:
        """Keep trying until the queue is empty or `drain_timeout` passes; what is left counts as lost."""
        deadline = self._clock() + self.policy.drain_timeout
        total = BatchResult(0, [])
        while self._queue and self._clock() < deadline:
            await asyncio.sleep(max(0.0, min(self._retry_at, deadline) - self._clock()))
            result = await self.deliver([], chunk)
            total = BatchResult(total.accepted + result.accepted, total.rejected + result.rejected)
        if self._queue:
            wait = self.policy.drain_timeout
            lost = [f"{p.submission.peer_id!r}: {p.path} undelivered after {wait} s" for p in self._queue]
            log.error("the results service stayed away: %d records lost, first %s", len(lost), lost[0])
            self._queue.clear()
            total = BatchResult(total.accepted, total.rejected + lost)
        return total

    def _enqueue(self, records: list[Pending]) -> list[str]:
        self._queue.extend(records)
        dropped = []
        while len(self._queue) > self.policy.max_pending:
            oldest = self._queue.popleft()
            dropped.append(f"{oldest.submission.peer_id!r}: {oldest.path} dropped, {self.policy.max_pending} queued")
        if dropped:
            self.dropped += len(dropped)
            log.error("results outbox full: dropped %d records, first %s", len(dropped), dropped[0])
        return dropped

    def _back_off(self, reason: RequestError) -> None:
        self.failed_attempts += 1
        self._pause = min(self.policy.max_pause, max(self.policy.first_pause, self._pause * 2))
        self._retry_at = self._clock() + self._pause
        log.warning(
            "results service away (%s): %d records queued, next try in %.2f s", reason, len(self._queue), self._pause
        )
