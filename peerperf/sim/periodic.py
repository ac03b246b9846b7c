"""Periodic actions for routines that keep their rate.

The original's `PeriodicAction` reset its counter to 0 when it fired, so its real period was the
period plus up to one tick (106.7 ms instead of 100 ms at 60 Hz). This one schedules the next
firing a whole period after the previous *due* time, so over a run it fires exactly
`elapsed / period` times.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Every:
    """Fires once every `period` seconds of routine time; `due(elapsed)` says how many times now."""

    period: float
    #: Routine time of the next firing; by default the first is one period in, as the original's.
    #: A simulated peer's timers start at a phase instead (`peerperf.sim.phases`).
    next_due: float | None = None

    def __post_init__(self) -> None:
        if self.period <= 0:
            raise ValueError(f"period must be positive, got {self.period}")
        if self.next_due is None:
            self.next_due = self.period

    def due(self, elapsed: float) -> int:
        """How many firings fall due by `elapsed` (0, 1, or more after a stall); schedules the next."""
        assert self.next_due is not None
        count = 0
        while elapsed >= self.next_due:
            count += 1
            self.next_due += self.period
        return count
