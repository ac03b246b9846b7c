"""How many messages a routine originates per second, reliable and unreliable, by running it alone.

A plan that can only bound a big layer's traffic multiplies the copies one flood makes by the rate
packets are originated; that rate is the routine's own, read by calling it on a 60 Hz tick for a
while with a peer that only counts what it is asked to send.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peerperf.protocol.packets import Payload
from peerperf.protocol.positions import Position
from peerperf.sim.api import Routine
from peerperf.sim.periodic import Every
from peerperf.sim.roomset import RoomSet
from peerperf.sim.routines import load_routine, parse_mix, routine_params

TICK_HZ = 60.0


@dataclass(frozen=True)
class RoutineRate:
    """Messages per second one peer originates (the mix's weighted mean)."""

    unreliable: float
    reliable: float

    @property
    def total(self) -> float:
        return self.unreliable + self.reliable


@dataclass
class _CountingPeer:
    """A `RoutinePeer` that sends nothing and counts."""

    room: str = "room"
    state: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    run_rooms: tuple[str, ...] = ("room",)
    _rooms: RoomSet = field(default_factory=lambda: RoomSet({"room"}))
    unreliable: int = 0
    reliable: int = 0
    _position: Position = (0.0, 0.0, 0.0)
    _timers: dict[str, Every] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return "counting-peer"

    @property
    def position(self) -> Position:
        return self._position

    def move_to(self, position: Position) -> None:
        self._position = tuple(float(v) for v in position)

    @property
    def connections(self) -> list[str]:
        return []

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(self._rooms.rooms)

    def join_room(self, name: str) -> None:
        self._rooms.join(name)

    def leave_room(self, name: str) -> None:
        self._rooms.leave(name)

    def send_position(self) -> None:
        self.unreliable += 1

    def send_profile(self) -> None:
        self.unreliable += 1

    def send_chat(self, text: str | None = None) -> None:
        self.reliable += 1

    def send(self, payload: Payload, *, subtype: str, reliable: bool, room: str | None = None) -> None:
        if reliable:
            self.reliable += 1
        else:
            self.unreliable += 1

    def every(self, period: float, key: str | None = None) -> Callable[[float], int]:
        return self._timers.setdefault(key or f"every:{period}", Every(period)).due


#: Even under a wall-clock limit, each routine runs this many seconds of routine time (its slowest timer
#: in the default routine fires every 10 s).
MIN_SECONDS = 20.0


def routine_rate(spec: str, seconds: float = 600.0, wall_seconds: float | None = None) -> RoutineRate:
    """Messages per second originated by the routine (or weighted mix) `spec`, over `seconds` of routine
    time, or fewer (never under `MIN_SECONDS`) when a routine that burns CPU would take over `wall_seconds`."""
    choices = parse_mix(spec)
    total = sum(c.weight for c in choices)
    unreliable = reliable = 0.0
    per_routine = None if wall_seconds is None else wall_seconds / len(choices)
    for choice in choices:
        routine = load_routine(choice.name)
        peer = _CountingPeer(params=routine_params(choice.name))
        ran = _run(routine, peer, seconds, per_routine)
        unreliable += peer.unreliable / ran * choice.weight / total
        reliable += peer.reliable / ran * choice.weight / total
    return RoutineRate(unreliable, reliable)


def _run(routine: Routine, peer: _CountingPeer, seconds: float, wall_seconds: float | None) -> float:
    """Call `routine` on a 60 Hz tick for `seconds` of routine time (cut short past `wall_seconds`, once
    `MIN_SECONDS` have run); the routine seconds run."""
    deadline = None if wall_seconds is None else time.monotonic() + wall_seconds
    ticks = int(seconds * TICK_HZ)
    tick = 0
    for tick in range(1, ticks + 1):
        routine(tick / TICK_HZ, 1 / TICK_HZ, peer)
        if deadline is not None and tick >= MIN_SECONDS * TICK_HZ and time.monotonic() > deadline:
            break
    return tick / TICK_HZ
