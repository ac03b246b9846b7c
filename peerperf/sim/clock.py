"""The host's clock against the results service's: one timebase for latency across machines.

Latency is receive time minus send time, read on two machines' clocks. Each host estimates its
offset to the results service (the run's reference clock) from round trips, keeping the one with
the shortest round trip (its error is at most half that), and re-measures every window. Our peers
stamp app messages in the reference timebase and read them back in it, so a latency measured
between hosts is corrected for their clocks; the offset and its error go beside every datapoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from peerperf.errors import PeerperfError
from peerperf.protocol.wallclock import now_ms
from peerperf.results.outbox import TRANSIENT_STATUSES

log = logging.getLogger(__name__)

#: Round trips per measurement; the shortest one wins.
PROBES = 5


@dataclass(frozen=True)
class ClockOffset:
    #: This host's wall clock minus the reference clock, ms.
    offset_ms: float
    #: Half the best round trip: the offset is right within this, ms.
    error_ms: float


async def measure(
    reference_ms: Callable[[], Awaitable[float]], probes: int = PROBES, local_ms: Callable[[], float] | None = None
) -> ClockOffset:
    """Estimate the offset from `probes` round trips to `reference_ms` (NTP's minimum-delay rule)."""
    now = local_ms or now_ms
    best: ClockOffset | None = None
    for _ in range(probes):
        sent = now()
        reference = await reference_ms()
        received = now()
        estimate = ClockOffset((sent + received) / 2 - reference, (received - sent) / 2)
        if best is None or estimate.error_ms < best.error_ms:
            best = estimate
    assert best is not None, "probes must be at least 1"
    return best


#: An estimate is kept while no better one comes, for at most this long (clocks drift by ppm).
KEEP_BEST_FOR = 60.0


class HostClock:
    """The host's offset to the reference clock: the best recent estimate, applied only when it matters.

    A busy machine stretches round trips, so each window's estimate replaces the kept one only when
    it is at least as tight (or the kept one is over a minute old); and an offset within its own
    error is indistinguishable from zero (one machine, one clock), so it is not applied.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.offset: ClockOffset | None = None
        self._measured_at = 0.0
        self._now = now
        self._unavailable = False

    @property
    def offset_ms(self) -> float:
        """The correction applied: the offset, or 0 when it is not told apart from 0."""
        if self.offset is None or abs(self.offset.offset_ms) <= self.offset.error_ms:
            return 0.0
        return self.offset.offset_ms

    def reference_now_ms(self) -> float:
        """Now, on the reference clock."""
        return now_ms() - self.offset_ms

    async def update(
        self,
        reference_ms: Callable[[], Awaitable[float]],
        probes: int = PROBES,
        local_ms: Callable[[], float] | None = None,
    ) -> None:
        """Measure again; a results server without a clock route leaves the offset unknown, said once."""
        if self._unavailable:
            return
        try:
            estimate = await measure(reference_ms, probes, local_ms)
        except PeerperfError as exc:
            if getattr(exc, "http_status", None) in TRANSIENT_STATUSES:  # away for now: the last estimate stands
                log.warning("cannot read the results service's clock now (%s): trying again next window", exc)
                return
            log.warning("cannot read the results service's clock (%s): latency across hosts is uncorrected", exc)
            self._unavailable = True
            return
        stale = self._now() - self._measured_at > KEEP_BEST_FOR
        if self.offset is None or stale or estimate.error_ms <= self.offset.error_ms:
            self.offset, self._measured_at = estimate, self._now()
