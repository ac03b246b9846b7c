"""Routines: the default routine's exact rates, selection by name / import string / weighted mix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pytest

from peerperf.errors import ConfigError
from peerperf.peer import Peer
from peerperf.protocol.positions import Position
from peerperf.sim.payloads import chat_message, position_message, profile_message
from peerperf.sim.periodic import Every
from peerperf.sim.roomset import RoomSet
from peerperf.sim.routines import RoutineChoice, assign, load_routine, parse_mix
from peerperf.sim.simpeer import SimulatedPeer


class FakePeer:
    """Records what a routine asks for; implements RoutinePeer without a network."""

    def __init__(self) -> None:
        self.id = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0Uv"
        self.room = "room"
        self.state: dict[str, Any] = {}
        self.sent: Counter[str] = Counter()
        self._position: Position = (0.0, 0.0, 0.0)
        self._timers: dict[str, Every] = {}
        self.params: dict[str, str] = {}
        self.run_rooms: tuple[str, ...] = ("room",)
        self.room_set = RoomSet({"room"})

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(self.room_set.rooms)

    def join_room(self, name: str) -> None:
        self.room_set.join(name)

    def leave_room(self, name: str) -> None:
        self.room_set.leave(name)

    @property
    def position(self) -> Position:
        return self._position

    def move_to(self, position: Position) -> None:
        self._position = position

    @property
    def connections(self) -> list[str]:
        return []

    def send_position(self) -> None:
        self.sent["position"] += 1

    def send_profile(self) -> None:
        self.sent["profile"] += 1

    def send_chat(self, text: str | None = None) -> None:
        self.sent["chat"] += 1

    def send(self, payload: Any, *, subtype: str, reliable: bool, room: str | None = None) -> None:
        self.sent[subtype] += 1

    def every(self, period: float, key: str | None = None) -> Callable[[float], int]:
        return self._timers.setdefault(key or f"every:{period}", Every(period)).due


def drive(routine_name: str, seconds: float, hz: float = 60) -> FakePeer:
    routine = load_routine(routine_name)
    peer = FakePeer()
    ticks = int(seconds * hz)
    for n in range(1, ticks + 1):
        routine(n / hz, 1 / hz, peer)
    return peer


def test_default_routine_keeps_its_rates_exactly() -> None:
    peer = drive("default", 100.0)
    assert peer.sent == {"position": 1000, "profile": 100, "chat": 10}  # the original: ~937 positions


def test_idle_sends_nothing_and_wander_moves() -> None:
    assert drive("idle", 10.0).sent == {}
    walker = drive("wander", 10.0)
    assert walker.position != (0.0, 0.0, 0.0) and walker.sent["position"] == 100


def test_every_catches_up_after_a_stall_without_drift() -> None:
    timer = Every(0.1)
    assert [timer.due(t) for t in (0.05, 0.1, 0.35, 0.4)] == [0, 1, 2, 1]


def test_payload_sizes_are_the_originals() -> None:
    assert len(position_message((12.5, 0.0, -7.25))) == 46
    assert len(profile_message("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0Uv")) == 58
    assert len(chat_message()) == 91


def test_mix_parsing_and_assignment() -> None:
    assert parse_mix("default") == [RoutineChoice("default", 1.0)]
    mix = parse_mix("default:0.8, idle:0.2")
    names = assign(mix, 10)
    assert Counter(names) == {"default": 8, "idle": 2}
    assert Counter(assign(mix, 5)) == {"default": 4, "idle": 1}
    assert parse_mix("peerperf.routines.wander:routine") == [RoutineChoice("peerperf.routines.wander:routine", 1.0)]
    assert parse_mix("peerperf.routines.wander:routine:3,idle") == [
        RoutineChoice("peerperf.routines.wander:routine", 3.0),
        RoutineChoice("idle", 1.0),
    ]


@pytest.mark.parametrize(
    "spec,message",
    [
        ("nope", "cannot import peerperf.routines.nope"),
        ("peerperf.routines.default:missing", "has no function 'missing'"),
        ("default:-1", "weight must be positive"),
        ("", "empty"),
    ],
)
def test_bad_routines_are_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_mix(spec)


def test_a_raising_routine_is_counted_not_fatal() -> None:
    from peerperf.peer import Peer
    from peerperf.sim.simpeer import SimulatedPeer

    def broken(elapsed: float, delta: float, peer: Any) -> None:
        raise RuntimeError("bug in a routine")

    sim = SimulatedPeer(Peer("http://127.0.0.1:9", "p1"), broken, "broken", "room", start_offset=0.0)
    sim.start(now=10.0)
    for tick in range(3):
        sim.tick(10.0 + tick / 60, 1 / 60)
    assert sim.routine_errors == 3


def test_a_simulated_peers_timers_start_at_their_phase_and_keep_their_rate() -> None:
    phases = {"every:10.0": 0.3, "every:1.0": 0.0}
    sim = SimulatedPeer(cast(Peer, None), load_routine("idle"), "idle", "room", 0.0, phase=phases.__getitem__)
    chat, profile = sim.every(10.0), sim.every(1.0)
    assert [chat(t) for t in (2.9, 3.0, 12.9, 13.0)] == [0, 1, 0, 1]  # 3 s in, then every 10 s
    assert profile(0.0) == 1 and profile(100.0) == 100  # phase 0: at once; then exactly one per second
    unphased = SimulatedPeer(cast(Peer, None), load_routine("idle"), "idle", "room", 0.0)
    assert [unphased.every(10.0)(t) for t in (9.9, 10.0)] == [0, 1]  # the original's: one period in
