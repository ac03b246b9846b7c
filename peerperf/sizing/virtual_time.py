"""Virtual time for the mesh simulation: a deterministic event queue and the clocks the meshes read.

Events run in time order, ties in the order they were scheduled, so a seeded simulation is
reproducible. Nothing sleeps: time jumps from one event to the next.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from peerperf.peer.mesh_interfaces import MeshClock

#: Wall-clock ms of virtual time 0 (packets carry wall-clock timestamps in whole ms).
EPOCH_MS = 1_700_000_000_000.0


class EventQueue:
    """Callbacks at virtual times; `now` is the time of the event being run."""

    def __init__(self) -> None:
        self.now = 0.0
        self._events: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._scheduled = 0
        #: Events run so far.
        self.ran = 0

    def at(self, when: float, action: Callable[..., Any], *args: Any) -> None:
        """Run `action(*args)` at virtual time `when` (not before now)."""
        self._scheduled += 1
        heapq.heappush(self._events, (max(when, self.now), self._scheduled, action, args))

    def after(self, delay: float, action: Callable[..., Any], *args: Any) -> None:
        self.at(self.now + delay, action, *args)

    def every(self, period: float, action: Callable[[], Any], first: float | None = None) -> None:
        """Run `action` every `period` s, the first time at `first` (default: one period from now)."""

        def fire() -> None:
            action()
            self.after(period, fire)

        self.at(self.now + period if first is None else first, fire)

    def drop(self, action: Callable[..., Any]) -> int:
        """Forget every pending call of `action`; how many there were."""
        kept = [event for event in self._events if event[2] != action]
        dropped = len(self._events) - len(kept)
        heapq.heapify(kept)
        self._events = kept
        return dropped

    def run_until(self, end: float) -> None:
        """Run every event due before `end`; then `now` is `end`."""
        events = self._events
        pop = heapq.heappop
        while events and events[0][0] < end:
            when, _, action, args = pop(events)
            self.now = when
            action(*args)
            self.ran += 1
        self.now = end

    def mesh_clock(self) -> MeshClock:
        """The clocks a mesh reads: virtual seconds, and virtual wall-clock ms from `EPOCH_MS`."""
        return MeshClock(monotonic=lambda: self.now, wall_ms=lambda: EPOCH_MS + self.now * 1000)
