"""Delivery counted by origin window: exact, never above 1, with the windows it cannot vouch for left out."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from peerperf.analysis.delivery import grace_windows, origin_delivery
from peerperf.analysis.summarise import summary
from peerperf.analysis.windows import with_windows
from tests.analysis.fixtures import Scenario


def in_flight(**options: Any) -> Scenario:
    """Varying traffic, 30 % of whose arrivals come in the window after the one their packets were made in."""
    return Scenario(varying=True, late_share=0.3, **options)


def test_packets_in_flight_across_window_edges_read_above_one_by_stats_window_and_exactly_one_by_origin() -> None:
    by_stats_window = summary(in_flight().frame())
    assert float(by_stats_window["delivery"]) > 1.0  # a ratio over 100 % (once 100.03 %), made visible
    exact = summary(in_flight(by_window=True).frame())
    assert exact["delivery"] == 1.0 and exact["delivery.position"] == 1.0
    assert not any("stats window" in note for note in exact.notes)
    # 8 windows: steady 3..7; the last counted origin window is 6, whose late arrivals came in window 7.
    assert exact["delivery.windows"] == 4


def test_loss_shows_exactly() -> None:
    scenario = in_flight(by_window=True, lost={0: 0.1})
    result = summary(scenario.frame())
    counted = range(3, 7)
    lost = sum(scenario.arrivals(0, w)[2] for w in counted)
    expected = sum(scenario.peers * (scenario.peers - 1) * scenario.created(w) for w in counted)
    assert result["delivery"] == pytest.approx(1 - lost / expected, abs=1e-12)


def test_a_window_a_peer_did_not_report_leaves_its_neighbours_out_and_never_reads_above_one() -> None:
    frame = in_flight(peers=4, windows=12, by_window=True).frame()
    refused = (frame["peerId"] == "fixture-peer-1") & (frame["window"] == 6)
    result = summary(frame[~refused.to_numpy()].reset_index(drop=True))
    assert result["delivery"] == 1.0
    # Origin windows 3..10 (11 is the last's neighbour: its late arrivals were never reported), minus 5..7.
    assert result["delivery.windows"] == 5


def test_random_flights_and_losses_are_counted_exactly_and_never_above_one() -> None:
    rng = random.Random(7)
    for case in range(20):
        peers, windows = rng.randint(2, 6), rng.randint(6, 14)
        late, lost = rng.random() * 0.9, {i: rng.random() * 0.3 for i in range(peers) if rng.random() < 0.5}
        scenario = Scenario(peers=peers, windows=windows, varying=True, late_share=late, by_window=True, lost=lost)
        numbered = with_windows(scenario.frame())
        exact = origin_delivery(numbered, first=3, grace=1)
        per_window = exact.per_window
        assert (per_window["arrived"] <= per_window["expected"]).all(), case
        truth = {
            w: 1 - sum(scenario.arrivals(i, w)[2] for i in range(peers)) / (peers * (peers - 1) * scenario.created(w))
            for w in per_window.index
        }
        assert (per_window["arrived"] / per_window["expected"]).to_dict() == pytest.approx(truth, abs=1e-12), case
        assert list(per_window.index) == list(range(3, windows - 1)), case


def test_the_datapoints_of_another_client_in_the_layer_leave_it_out() -> None:
    ours = in_flight(by_window=True).frame()
    other_layer = in_flight(test_id="fixture", by_window=True).frame()
    other_layer = other_layer.assign(
        layer="red",
        peerId=other_layer["peerId"].str.replace("peer", "red"),
        hostId=other_layer["hostId"].str.replace("host", "redhost"),
        connectedPeers=[[p.replace("peer", "red") for p in peers] for peers in other_layer["connectedPeers"]],
    )
    browser = pd.DataFrame(
        [
            {"peerId": "browser-0", "timestamp": 1_000_000 + w * 2000, "connectedPeers": ["fixture-peer-0"]}
            for w in range(1, 9)
        ]
    ).assign(testId="fixture", sent=10, received=30, position=[[0.0, 0.0, 0.0]] * 8)
    result = summary(pd.concat([ours, other_layer, browser], ignore_index=True))
    assert result["peers"] == 8 and result["peers.browser"] == 1 and result["datapoints.browser"] == 8
    assert any("another client" in note and "layer blue" in note for note in result.notes)
    assert result["delivery"] == 1.0  # the red layer's, counted; blue left out
    assert result["delivery.windows"] == 4


def moving_frame(multi_room_window: int | None = None) -> pd.DataFrame:
    """Peers a and b stay in room r1; c is in r2 until it moves to r1 in window 5 (4 of its 10 packets of
    window 5 go to r2, 6 to r1; it gets the last 6 of a's and b's). Every packet reaches every peer."""
    rows = []
    for w in range(1, 9):
        for peer in "abc":
            room = "r2" if peer == "c" and w < 5 else "r1"
            rooms = ["r1", "r2"] if peer == "c" and w == multi_room_window else [room]
            arrived: dict[str, int] = {}
            for src in "abc":
                if src == peer:
                    continue
                arrived[str(w)] = arrived.get(str(w), 0) + 10
                src_room = "r2" if src == "c" and w < 5 else "r1"
                moving = w == 5 and "c" in (src, peer)  # the move: only packets sent after it reach r1's members
                got = 6 if moving else 10 if src_room == room else 0
                arrived[f"{w}/position"] = arrived.get(f"{w}/position", 0) + got
            rows.append(
                {
                    "testId": "t",
                    "peerId": peer,
                    "layer": "blue",
                    "window": w,
                    "room": room,
                    "rooms": rooms,
                    "roomMoves": 2 if peer == "c" and w == 5 else 0,
                    "originatedByWindow": {str(w): 10, f"{w}/position": 10},
                    "arrivedByWindow": arrived,
                }
            )
    return pd.DataFrame(rows)


def test_delivery_to_rooms_expects_only_the_peers_in_the_senders_room_while_they_are() -> None:
    exact = origin_delivery(moving_frame(), first=1, grace=1).per_peer.loc["t"]
    # Origin windows 2..6 count (7 is within the grace of the last); room windows 4 (c's, before its move)
    # and 5 (both rooms: c moved in it) are left out: a and b expect 10 from each other in 2, 3, 4 and 20
    # (c too) in 6; c expects nothing in r2 alone (2, 3) and 20 in 6.
    assert exact["expected.position"].to_dict() == {"a": 50, "b": 50, "c": 20}
    assert (exact["arrived.position"] == exact["expected.position"]).all()
    assert exact["expected"].to_dict() == {"a": 100, "b": 100, "c": 100}, "flooded packets: every window 2..6"
    static = origin_delivery(moving_frame().drop(columns=["rooms", "roomMoves"]), first=1, grace=1).per_peer
    assert (static["arrived.position"] < static["expected.position"]).any(), "without membership: false loss"


def test_a_receiver_in_two_rooms_is_left_out_of_room_delivery_for_that_window() -> None:
    exact = origin_delivery(moving_frame(multi_room_window=6), first=1, grace=1).per_peer.loc["t"]
    assert exact["expected.position"].to_dict() == {"a": 50, "b": 50, "c": 0}


def test_grace_windows_round_a_measured_interval_to_the_whole_windows_it_is() -> None:
    """2 s windows measured from timestamps read 1.9998 s: still one window of grace for 2 s, not two."""
    assert grace_windows(2.0, 1.9998) == 1 and grace_windows(2.0, 2.0) == 1
    assert grace_windows(2.0, 1.9) == 2 and grace_windows(2.0, 1.0) == 2 and grace_windows(2.0, 0.5) == 4
    assert grace_windows(2.0, 5.0) == 1
