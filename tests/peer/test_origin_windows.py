"""Packets counted by origin window: sender and receivers agree, whenever the packets arrive."""

from __future__ import annotations

import time

import pytest

from peerperf.peer.origin_windows import MAX_EARLY, OriginWindows, WindowGrid
from peerperf.protocol.messagetypes import reliable
from tests.peer.test_mesh import triangle


def test_a_timestamp_falls_in_the_window_the_hosts_grid_puts_it_in() -> None:
    grid = WindowGrid(start_ms=1_000_000, interval_ms=2000, offset_ms=250.0)
    assert [grid.window_of(t) for t in (1_000_000, 1_001_999, 1_002_000, 999_999)] == [1, 1, 2, 0]
    # The host's grid starts at start + offset on its own clock: a stamp is its clock minus the offset.
    host_now_ms = time.time() * 1000
    host_window = int((host_now_ms - (grid.start_ms + grid.offset_ms)) // grid.interval_ms) + 1
    assert abs(grid.window_of(grid.stamp()) - host_window) <= 1  # a hair apart at most: the clock moved on


def test_what_was_created_before_the_grid_is_attributed_once_it_is_set_and_arrivals_wait_for_it() -> None:
    windows = OriginWindows()
    windows.created(1_000_500, None)
    windows.created(1_002_500, "chat")
    windows.first_arrival(1_002_500)  # the receiver cannot place it yet: not counted by window
    assert windows.take() == {"originatedByWindow": {}, "arrivedByWindow": {}}
    windows.set_grid(WindowGrid(1_000_000, 2000))
    windows.first_arrival(1_002_500)
    windows.delivered(1_002_500, "chat")
    assert windows.take() == {
        "originatedByWindow": {"1": 1, "2": 1, "2/chat": 1},
        "arrivedByWindow": {"2": 1, "2/chat": 1},
    }
    assert windows.take() == {"originatedByWindow": {}, "arrivedByWindow": {}}


def test_creations_kept_before_the_grid_are_bounded() -> None:
    windows = OriginWindows()
    for i in range(MAX_EARLY + 5):
        windows.created(1_000 + i, None)
    windows.set_grid(WindowGrid(2_000_000, 2000))
    counts = windows.take()["originatedByWindow"]
    assert sum(counts.values()) == MAX_EARLY + 5  # none lost: the oldest count as window 0, before the test
    assert counts["0"] >= 5


def test_packets_in_flight_across_a_window_edge_count_for_the_window_they_were_created_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = triangle()
    grid = WindowGrid(1_000_000, 2000)
    clock = {"now": 1_001_900}
    for node in net.nodes.values():
        node.mesh.measures.windows.set_grid(grid)
        monkeypatch.setattr(node.mesh.measures.windows, "stamp", lambda _wall_ms: clock["now"])
    a = net.nodes["a"].mesh
    for _ in range(3):  # created late in window 1 ...
        a.send_message("room", b"x", reliable("chat"))
    sender_window_1 = a.measures.take(time.monotonic())
    receivers_window_1 = [net.nodes[n].mesh.measures.take(time.monotonic()) for n in "bc"]
    clock["now"] = 1_002_100  # ... and two in window 2, all arriving only now, after window 1 closed
    for _ in range(2):
        a.send_message("room", b"y", reliable("chat"))
    net.run()
    received = [net.nodes[n].mesh.measures.take(time.monotonic()) for n in "bc"]

    assert sender_window_1["originatedByWindow"] == {"1": 3, "1/chat": 3}
    assert [r["uniqueReceived"] for r in receivers_window_1] == [0, 0]  # by stats window: 0 % of window 1 ...
    assert [r["uniqueReceived"] for r in received] == [5, 5]  # ... and 250 % of window 2
    for r in received:  # by origin window: exactly what was created in each, for each receiver
        assert r["arrivedByWindow"] == {"1": 3, "1/chat": 3, "2": 2, "2/chat": 2}
