"""A deadline-paced tick loop that measures how late it runs.

Tick n is due at `start + (n + phase) / hz`: a phase in [0, 1) keeps hosts started together from
all waking in the same instant. The loop sleeps until the next deadline (so work time does not
add up to drift), records how late each tick actually ran, and when it falls more than one period
behind it skips the ticks it missed (counting them) instead of bursting to catch up. Lag is the
harness's own health signal: if ticks run late, the generator, not the network, is the bottleneck.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from peerperf.protocol.histogram import Histogram

Tick = Callable[[float, float], None]


@dataclass(frozen=True)
class LagWindow:
    """Tick lateness over one stats window, in milliseconds."""

    p50: float
    p99: float
    max: float
    ticks: int
    missed: int
    #: Every tick's lateness, mergeable across hosts and windows (flat encoding).
    histogram: list[int] = field(default_factory=list)


@dataclass
class LagRecorder:
    """Collects per-tick lateness; `window()` summarises and resets."""

    lags_ms: list[float] = field(default_factory=list)
    missed: int = 0
    histogram: Histogram = field(default_factory=Histogram)

    def record(self, lag_ms: float) -> None:
        self.lags_ms.append(lag_ms)
        self.histogram.record(lag_ms)

    def window(self) -> LagWindow:
        lags = sorted(self.lags_ms)
        missed = self.missed
        self.lags_ms, self.missed = [], 0
        histogram = self.histogram.take()
        if not lags:
            return LagWindow(0.0, 0.0, 0.0, 0, missed, histogram)
        return LagWindow(_percentile(lags, 50), _percentile(lags, 99), lags[-1], len(lags), missed, histogram)


def _percentile(ordered: list[float], pct: float) -> float:
    index = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[index]


class TickLoop:
    """Calls `on_tick(now, delta)` `hz` times a second until `stop()` or `duration` s have passed."""

    def __init__(
        self,
        hz: float,
        on_tick: Tick,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        phase: float = 0.0,
    ) -> None:
        if not 0 <= phase < 1:
            raise ValueError(f"tick phase must be in [0, 1), got {phase}")
        self.period = 1.0 / hz
        self.phase = phase
        self._on_tick = on_tick
        self._clock = clock
        self._sleep = sleep
        self.lag = LagRecorder()
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self, duration: float | None = None) -> None:
        previous = self._clock()
        start = previous + self.phase * self.period
        n = 0
        while not self._stopped.is_set():
            n += 1
            deadline = start + n * self.period
            if duration is not None and deadline - start > duration:
                return
            delay = deadline - self._clock()
            # Sleep to the deadline; when late, still yield so the loop never starves the event loop.
            await self._sleep(max(delay, 0.0))
            now = self._clock()
            late = now - deadline
            if late > self.period:  # fell behind by a whole tick or more: skip, do not burst
                skipped = int(late // self.period)
                self.lag.missed += skipped
                n += skipped
            self.lag.record(late * 1000)
            self._on_tick(now, now - previous)
            previous = now
