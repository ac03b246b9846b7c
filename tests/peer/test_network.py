"""The connection policy (reference 2.2) as pure decisions."""

from __future__ import annotations

import random

from peerperf.peer.network import Connect, Disconnect, MeshView, accept_over_max, next_operation, sort_peers
from peerperf.peer.settings import PeerSettings

SETTINGS = PeerSettings()
RNG = random.Random(7)


def at(x: float) -> tuple[float, float, float]:
    return (x, 0.0, 0.0)


def test_below_target_connects_to_the_nearest_candidates() -> None:
    view = MeshView(
        at(0), ["c1"], ["far", "near", "mid", "unknown"], {"far": at(500), "near": at(10), "mid": at(50), "c1": at(5)}
    )
    assert next_operation(view, SETTINGS, RNG) == Connect(("near", "mid", "far"))


def test_without_positions_candidates_are_random_but_complete() -> None:
    view = MeshView(None, [], ["a", "b", "c", "d", "e"])
    op = next_operation(view, SETTINGS, RNG)
    assert isinstance(op, Connect) and len(op.peer_ids) == 4 and set(op.peer_ids) <= set("abcde")


def test_above_max_drops_the_farthest() -> None:
    connected = [f"p{i}" for i in range(9)]
    positions = {p: at(20 * i) for i, p in enumerate(connected)}
    op = next_operation(MeshView(at(0), connected, [], positions), SETTINGS, RNG)
    assert isinstance(op, Disconnect) and set(op.peer_ids) == {"p8", "p7"}


def test_upgrade_to_a_nearer_candidate_at_target() -> None:
    connected = ["a", "b", "c", "d"]
    positions = {"a": at(1), "b": at(2), "c": at(3), "d": at(200), "new": at(10)}
    assert next_operation(MeshView(at(0), connected, ["new"], positions), SETTINGS, RNG) == Connect(("new",))
    positions["new"] = at(300)
    assert next_operation(MeshView(at(0), connected, ["new"], positions), SETTINGS, RNG) is None


def test_b_distance_limits() -> None:
    settings = PeerSettings(max_connection_distance=100, disconnect_distance=150)
    view = MeshView(
        at(0),
        ["a", "b", "c", "d", "x"],
        [],  # no candidates, so no upgrade comes first
        {"near": at(50), "far": at(120), "mate": at(900), "x": at(400), "a": at(1), "b": at(1), "c": at(1), "d": at(1)},
        frozenset({"mate"}),
    )
    assert next_operation(view, settings, RNG) == Disconnect(("x",))
    view = MeshView(at(0), [], ["near", "far", "mate"], view.positions, frozenset({"mate"}))
    op = next_operation(view, settings, RNG)
    assert isinstance(op, Connect) and set(op.peer_ids) == {"near", "mate"}


def test_sort_puts_unknown_positions_last() -> None:
    view = MeshView(at(0), [], [], {"a": at(70), "b": at(5)})
    assert sort_peers(view, ["x", "a", "b"], SETTINGS, RNG) == ["b", "a", "x"]


def test_at_capacity_an_offer_is_accepted_only_from_no_farther_than_the_worst_connection() -> None:
    connected = ["a", "b"]
    positions = {"a": at(10), "b": at(50), "same": at(60), "farther": at(70), "nowhere": at(500)}
    view = MeshView(at(0), connected, [], positions)
    assert accept_over_max(view, "same", SETTINGS)  # band 1 (<= 64), as b's
    assert not accept_over_max(view, "farther", SETTINGS)  # band 2 (<= 80)
    assert not accept_over_max(view, "unknown", SETTINGS)  # no position: refused, as the original
    assert not accept_over_max(MeshView(None, connected, [], positions), "same", SETTINGS)
