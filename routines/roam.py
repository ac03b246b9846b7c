"""Peers that move between rooms (issue 24): each peer goes to another room of the run every 20-40 s.

The waits are drawn uniformly from `period` (`roam?period=2-4` shortens them) and the rooms uniformly
from the run's others, from a generator seeded by the peer's id, so a run with the same `--seed` moves
the same peers to the same rooms at the same routine times. A move is the original's `leaveRoom` of the
current room and `joinRoom` of the next (connections stay: the mesh is the layer's); the peer's
messages then go to its new room. It sends what the default routine sends.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from peerperf.errors import ConfigError
from peerperf.routines import RoutinePeer
from peerperf.routines.default import routine as default_routine

#: Seconds between moves, drawn uniformly in this range.
PERIOD = (20.0, 40.0)


@dataclass(frozen=True)
class Move:
    """At routine time `at` (s), the peer goes to `room`."""

    at: float
    room: str


def parse_period(text: str) -> tuple[float, float]:
    """`"20-40"` -> (20.0, 40.0) seconds; ConfigError unless 0 < low <= high."""
    low, sep, high = text.partition("-")
    try:
        period = (float(low), float(high if sep else low))
    except ValueError:
        raise ConfigError(f"roam period {text!r}: expected seconds LOW-HIGH, e.g. 20-40") from None
    if not 0 < period[0] <= period[1]:
        raise ConfigError(f"roam period {text!r}: expected 0 < LOW <= HIGH")
    return period


def check_params(params: dict[str, str]) -> None:
    """Refuse unknown parameters and a bad period before the run starts."""
    unknown = sorted(set(params) - {"period"})
    if unknown:
        raise ConfigError(f"routine roam: unknown parameters {unknown} (it takes period=LOW-HIGH)")
    if "period" in params:
        parse_period(params["period"])


def moves(seed: str, rooms: tuple[str, ...], room: str, period: tuple[float, float]) -> Iterator[Move]:
    """The moves of one peer starting in `room`, endless (none when the run has no other room)."""
    rng = random.Random(f"roam:{seed}")
    at = 0.0
    while len(others := [r for r in rooms if r != room]) > 0:
        at += rng.uniform(*period)
        room = rng.choice(others)
        yield Move(at, room)


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    if "roam" not in peer.state:
        period = parse_period(peer.params["period"]) if "period" in peer.params else PERIOD
        planned = moves(peer.id, peer.run_rooms, peer.room, period)
        peer.state["roam"] = (planned, next(planned, None))
    planned, move = peer.state["roam"]
    while move is not None and elapsed >= move.at:
        go_to(peer, move.room)
        move = next(planned, None)
        peer.state["roam"] = (planned, move)
    default_routine(elapsed, delta, peer)


def go_to(peer: RoutinePeer, room: str) -> None:
    """Leave every room but `room`, join it, and send there from now on."""
    for old in sorted(peer.rooms - {room}):
        peer.leave_room(old)
    if room not in peer.rooms:
        peer.join_room(room)
    peer.room = room
