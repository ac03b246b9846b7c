"""Peers that move between rooms: the room set's rules, routine parameters, the seeded roam schedule, crowd."""

from __future__ import annotations

import itertools

import pytest

from peerperf.errors import ConfigError, PeerStateError
from peerperf.peer import Peer
from peerperf.routines import RoutinePeer
from peerperf.routines.roam import Move, moves, parse_period
from peerperf.sim.roomset import RoomSet
from peerperf.sim.routines import load_routine, parse_mix, routine_params
from peerperf.sim.simpeer import SimulatedPeer
from tests.sim.test_routines import FakePeer

ROOMS = ("room-1", "room-2", "room-3")


def test_a_room_set_counts_joins_and_leaves_and_refuses_mistakes() -> None:
    rooms = RoomSet({"room-1"})
    rooms.join("room-2")
    rooms.leave("room-1")
    assert rooms.rooms == {"room-2"} and rooms.take_moves() == 2 and rooms.take_moves() == 0
    with pytest.raises(PeerStateError, match=r"already in room 'room-2' \(its rooms: \['room-2'\]\)"):
        rooms.join("room-2")
    with pytest.raises(PeerStateError, match="not in room 'room-1'"):
        rooms.leave("room-1")
    assert rooms.rooms == {"room-2"} and rooms.moves == 0, "a refused move changes nothing"


def test_a_simulated_peers_mistaken_move_is_a_routine_error_and_changes_nothing() -> None:
    def rejoin(elapsed: float, delta: float, peer: RoutinePeer) -> None:
        peer.join_room("room-1")

    sim = SimulatedPeer(Peer("http://127.0.0.1:9", "p1"), rejoin, "rejoin", "room-1", start_offset=0.0)
    sim.start(now=0.0)
    sim.tick(0.1, 1 / 60)
    assert sim.routine_errors == 1 and sim.rooms == {"room-1"} and sim.room_set.moves == 0


def test_routine_parameters_are_parsed_and_checked_before_the_run() -> None:
    assert routine_params("roam?period=2-4") == {"period": "2-4"}
    assert routine_params("crowd?at=30&room=room-2") == {"at": "30", "room": "room-2"}
    assert routine_params("default") == {}
    assert [c.name for c in parse_mix("roam?period=2-4:3,crowd?at=5")] == ["roam?period=2-4", "crowd?at=5"]
    for spec, message in [
        ("roam?period=4-2", "0 < LOW <= HIGH"),
        ("roam?period=soon", "expected seconds LOW-HIGH"),
        ("roam?speed=2", "unknown parameters"),
        ("crowd?at=-1", "seconds >= 0"),
        ("crowd?room=", "room= is empty"),
        ("roam?period", "not key=value"),
        ("default?x=1", "takes no parameters"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_mix(spec)


def test_the_roam_schedule_is_seeded_per_peer_uniform_and_always_another_room() -> None:
    first = list(itertools.islice(moves("peer-a", ROOMS, "room-1", (20, 40)), 200))
    assert first == list(itertools.islice(moves("peer-a", ROOMS, "room-1", (20, 40)), 200)), "reproducible"
    assert first != list(itertools.islice(moves("peer-b", ROOMS, "room-1", (20, 40)), 200)), "per peer"
    waits = [b.at - a.at for a, b in itertools.pairwise([Move(0.0, "room-1"), *first])]
    assert all(20 <= w <= 40 for w in waits) and min(waits) < 22 and max(waits) > 38
    assert all(a.room != b.room for a, b in itertools.pairwise([Move(0.0, "room-1"), *first]))
    assert {m.room for m in first} == set(ROOMS)
    assert list(moves("peer-a", ("room-1",), "room-1", (20, 40))) == [], "one room: nowhere to go"
    assert parse_period("3") == (3.0, 3.0)


def test_roam_moves_the_peer_on_its_schedule_while_sending_the_default_traffic() -> None:
    peer = FakePeer()
    peer.room, peer.run_rooms, peer.params = "room-1", ROOMS, {"period": "2-4"}
    peer.room_set = RoomSet({"room-1"})
    planned = list(itertools.takewhile(lambda m: m.at <= 20, moves(peer.id, ROOMS, "room-1", (2, 4))))
    routine, seen = load_routine("roam"), list[tuple[float, str]]()
    for n in range(1, 20 * 60 + 1):
        routine(n / 60, 1 / 60, peer)
        if not seen or seen[-1][1] != peer.room:
            seen.append((n / 60, peer.room))
    assert [room for _, room in seen[1:]] == [m.room for m in planned]
    assert all(at - 1 / 60 < m.at <= at for (at, _), m in zip(seen[1:], planned, strict=True)), "on the tick due"
    assert peer.rooms == {peer.room} and peer.room_set.moves == 2 * len(planned), "a leave and a join per move"
    assert peer.sent["profile"] == 20 and peer.sent["chat"] == 2 and peer.sent["position"] in (199, 200)


def test_crowd_sends_every_peer_to_one_room_at_its_time() -> None:
    peer = FakePeer()
    peer.room, peer.run_rooms, peer.params = "room-2", ROOMS, {"at": "5"}
    peer.room_set = RoomSet({"room-2"})
    routine = load_routine("crowd")
    for n in range(1, 10 * 60 + 1):
        routine(n / 60, 1 / 60, peer)
        assert peer.room == ("room-1" if n / 60 >= 5 else "room-2"), n
    assert peer.rooms == {"room-1"} and peer.room_set.moves == 2 and peer.sent["position"] == 100
