"""Which stats window a packet was created in: the same answer on its sender and on every receiver.

Delivery counted per stats window is off at the window's edges: a packet created just before a
window closes arrives in the next one. So a packet is attributed to its *origin window*, a pure
function of its timestamp: window n covers [start + (n - 1) I, start + n I) of the run's grid
(start: the test's start on the results service's clock; I: the stats interval, both in whole ms).
The sender counts what it creates by that window, each receiver counts its first arrivals by it,
and the analysis divides the two: exact by construction, never above 1.

A host stamps its peers' packets on the clock its window grid runs on (its wall clock minus the
offset it aligned the grid with), so a packet's origin window is also the window its sender's host
was in when it created it. Until the host knows the grid (before the test starts), what a peer
creates is kept by timestamp and attributed once the grid is set; what it receives then is not
counted by window (the analysis counts a receiver from its second window on).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field

#: Most creations kept by timestamp before the grid is set; older ones then count as window 0 (before the test).
MAX_EARLY = 10_000


@dataclass(frozen=True)
class WindowGrid:
    """The run's stats windows: window n covers [start + (n - 1) interval, start + n interval)."""

    #: The test's start on the reference clock, ms since the epoch.
    start_ms: int
    interval_ms: int
    #: This host's wall clock minus the reference clock, as the host's window grid was aligned (ms).
    offset_ms: float = 0.0

    def window_of(self, timestamp_ms: int) -> int:
        return (timestamp_ms - self.start_ms) // self.interval_ms + 1

    def stamp(self, wall_ms: float | None = None) -> int:
        """`wall_ms` (default: now) on the grid's clock, in whole ms (a packet's timestamp)."""
        return int((time.time() * 1000 if wall_ms is None else wall_ms) - self.offset_ms)


def key(window: int, subtype: str | None = None) -> str:
    """The counts key: `"12"` for every flooded packet, `"12/position"` for an app message's subtype."""
    return str(window) if subtype is None else f"{window}/{subtype}"


@dataclass
class OriginWindows:
    """One peer's counts by origin window since the last `take()`: packets created, first arrivals."""

    grid: WindowGrid | None = None
    originated: Counter[str] = field(default_factory=Counter)
    arrived: Counter[str] = field(default_factory=Counter)
    #: (timestamp, subtype) of what was created before the grid was set.
    _early: deque[tuple[int, str | None]] = field(default_factory=deque)

    def set_grid(self, grid: WindowGrid) -> None:
        """Start counting by `grid`; what was created before it is attributed now."""
        self.grid = grid
        for timestamp, subtype in self._early:
            self._originate(grid.window_of(timestamp), subtype)
        self._early.clear()

    def stamp(self, wall_ms: float) -> int:
        """The timestamp of a packet created at `wall_ms` (this host's wall clock)."""
        return self.grid.stamp(wall_ms) if self.grid is not None else int(wall_ms)

    def created(self, timestamp_ms: int, subtype: str | None) -> None:
        """A flooded packet created here (`subtype`: an app message's, None for the mesh's own packets)."""
        if self.grid is not None:
            self._originate(self.grid.window_of(timestamp_ms), subtype)
        elif len(self._early) < MAX_EARLY:
            self._early.append((timestamp_ms, subtype))
        else:  # the oldest are long before any test window: window 0
            self._originate(0, self._early.popleft()[1])
            self._early.append((timestamp_ms, subtype))

    def _originate(self, window: int, subtype: str | None) -> None:
        self.originated[key(window)] += 1
        if subtype is not None:
            self.originated[key(window, subtype)] += 1

    def first_arrival(self, timestamp_ms: int) -> None:
        """The first arrival of another peer's flooded packet."""
        if self.grid is not None:
            self.arrived[key(self.grid.window_of(timestamp_ms))] += 1

    def delivered(self, timestamp_ms: int, subtype: str) -> None:
        """The first arrival of an app message to a joined room (also counted by `first_arrival`)."""
        if self.grid is not None:
            self.arrived[key(self.grid.window_of(timestamp_ms), subtype)] += 1

    def take(self) -> dict[str, dict[str, int]]:
        """This window's counts (`originatedByWindow`, `arrivedByWindow`); starts a new window."""
        out = {"originatedByWindow": dict(self.originated), "arrivedByWindow": dict(self.arrived)}
        self.originated, self.arrived = Counter(), Counter()
        return out
