"""The mesh over time, pure part: graphs from topology samples, a layout that stays put, the moments drawn."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from peerperf.analysis.mesh import (
    PASS_GAP_MS,
    Moment,
    colour_key,
    connections_over_time,
    groups_at,
    layout,
    meshes,
    moments,
    pass_gap_ms,
    stage_marks,
)
from peerperf.analysis.results_files import ResultsFileError, topology
from peerperf.results.model import TopologyPoint
from peerperf.results.sibling_parquet import write_topology


def entry(peer: str, layer: str, *connected: str) -> dict[str, Any]:
    """One peer as the lighthouse's `/layers/{layer}/topology` lists it."""
    return {"id": peer, "userId": peer, "peerId": peer, "layer": layer, "connectedPeerIds": list(connected)}


def test_each_pass_over_the_layers_is_one_mesh_with_each_connection_once() -> None:
    samples = [
        (1000, [entry("a", "blue-1", "b", "c"), entry("b", "blue-1", "a"), entry("c", "blue-1")]),
        (1010, [entry("d", "blue-2", "e", "d", "gone"), entry("e", "blue-2")]),  # self and a departed peer
        (6000, [entry("a", "blue-1", "b"), entry("b", "blue-1", "a")]),
        (6003, []),  # a layer nobody is in
        (6005, [entry("d", "blue-2"), entry("e", "blue-2")]),
    ]
    found = meshes(reversed(samples))  # stored order does not matter: time does
    assert [m.timestamp for m in found.meshes] == [1000, 6000]
    first, second = found.meshes
    assert first.layers == {"a": "blue-1", "b": "blue-1", "c": "blue-1", "d": "blue-2", "e": "blue-2"}
    assert first.edges == {("a", "b"), ("a", "c"), ("d", "e")}  # one-sided reports count, once
    assert first.connections() == {"a": 2, "b": 1, "c": 1, "d": 1, "e": 1}
    assert second.edges == {("a", "b")} and second.connections() == {"a": 1, "b": 1, "d": 0, "e": 0}
    assert found.unreadable == 0


def test_a_pass_that_skipped_a_layer_does_not_swallow_the_next_one() -> None:
    samples = [(0, [entry("a", "x")]), (10, [entry("b", "y")]), (5000, [entry("b", "y")])]
    samples.append((5000 + PASS_GAP_MS + 1, [entry("a", "x")]))  # x of the third pass; y of it was skipped
    assert [sorted(m.layers) for m in meshes(samples).meshes] == [["a", "b"], ["b"], ["a"]]
    # Sampled every second: a pass is at most half a second long.
    assert pass_gap_ms(1) == 500 and pass_gap_ms(5.0) == PASS_GAP_MS and pass_gap_ms(None) == PASS_GAP_MS
    quick = [(0, [entry("a", "x")]), (10, [entry("b", "y")]), (1010, [entry("b", "y")]), (2000, [entry("a", "x")])]
    assert [sorted(m.layers) for m in meshes(quick, pass_gap_ms(1)).meshes] == [["a", "b"], ["b"], ["a"]]
    assert len(meshes(quick).meshes) == 2, "with the default gap, 1010 and 2000 would make one pass"


@pytest.mark.parametrize(
    "body",
    [{"any": "object"}, "text", [{"connectedPeerIds": []}], [{"id": "a", "connectedPeerIds": "b"}], [7]],
)
def test_bodies_not_in_the_lighthouses_format_are_counted_and_skipped(body: Any) -> None:
    found = meshes([(0, body), (5000, [entry("a", "blue", "b"), entry("b", "blue")])])
    assert found.unreadable == 1
    assert [m.edges for m in found.meshes] == [{("a", "b")}]


def test_the_layout_is_the_same_at_every_moment_one_circle_per_layer_ordered_by_group_then_id() -> None:
    samples = [
        (0, [entry(p, "blue-2") for p in ("p1", "p2", "p3", "p4")]),
        (5, [entry("q1", "blue-10")]),
        (5000, [entry(p, "blue-2") for p in ("p1", "p3", "p4-s2")]),  # p2 left, p4 replaced
    ]
    found = meshes(samples).meshes
    groups = {"p1": "room-2", "p2": "room-1", "p3": "room-2", "p4": "room-10", "p4-s2": "room-10"}
    drawn = layout(found, groups)
    assert drawn == layout(list(found), dict(groups))  # deterministic
    positions = drawn.positions
    assert drawn.centres == {"blue-2": (0.0, 0.0), "blue-10": (2.5, 0.0)}
    assert set(positions) == {"p1", "p2", "p3", "p4", "p4-s2", "q1"}  # everyone who was ever there
    # blue-2 (before blue-10) is the circle of radius 1 around (0, 0); going clockwise from the top:
    # room-1 (p2), room-2 (p1, p3), room-10 (p4, p4-s2 next to the instance it replaced).
    order = ["p2", "p1", "p3", "p4", "p4-s2"]
    for k, peer in enumerate(order):
        angle = math.pi / 2 - 2 * math.pi * k / len(order)
        assert positions[peer] == pytest.approx((math.cos(angle), math.sin(angle)))
    assert math.dist(positions["q1"], (2.5, 0.0)) == pytest.approx(1.0)  # blue-10: the next circle


def test_moments_are_start_each_stage_and_end_nearest_sample_once() -> None:
    times = [0, 5000, 10000, 15000, 20000, 25000]
    marks = [(-1000, "stage 1 begins"), (6000, "stage 2 begins"), (7000, "stage 3 begins"), (19000, "stage 4 begins")]
    assert moments(times, marks, most=4) == [
        Moment(0, "start"),
        Moment(1, "stage 2 begins"),  # nearest both stage 2 and 3: drawn once
        Moment(4, "stage 4 begins"),
        Moment(5, "end"),
    ]
    assert [(m.index, m.label) for m in moments(times, marks)] == [  # room for two more: 6 samples, 6 moments
        (0, "start"),
        (1, "stage 2 begins"),
        (2, ""),
        (3, ""),
        (4, "stage 4 begins"),
        (5, "end"),
    ]


def test_moments_without_stages_are_evenly_spaced_and_never_more_than_six() -> None:
    times = list(range(0, 100_000, 5000))  # 20 samples
    assert [m.index for m in moments(times)] == [0, 4, 8, 11, 15, 19]
    many = [(t, f"stage {k}") for k, t in enumerate(range(0, 100_000, 5000))]
    chosen = moments(times, many)
    assert len(chosen) == 6 and chosen[0] == Moment(0, "start") and chosen[-1] == Moment(19, "end")
    assert moments([], []) == [] and moments([7], []) == [Moment(0, "start")]


def test_peers_are_coloured_by_room_else_by_node_else_by_host_at_the_moment_drawn() -> None:
    frame = pd.DataFrame(
        {
            "peerId": ["a", "a", "b", "b"],
            "timestamp": [2000, 4000, 2000, 4000],
            "room": ["r1", "r2", "r1", "r1"],  # a roams to r2
            "nodeId": ["n"] * 4,
            "hostId": ["h1", "h1", "h2", "h2"],
        }
    )
    assert colour_key(frame) == "room"
    assert groups_at(frame, "room") == {"a": "r1", "b": "r1"}  # first: the layout's order
    assert groups_at(frame, "room", 3900) == {"a": "r2", "b": "r1"}
    assert colour_key(frame.assign(room="r")) == "hostId"
    assert colour_key(frame.assign(room="r", nodeId=["n1", "n2", "n1", "n2"])) == "nodeId"
    assert colour_key(frame.assign(room="r", hostId="h")) == "room"  # all one: one colour
    assert colour_key(frame[["peerId", "timestamp"]]) is None


def test_stage_marks_are_each_stages_first_window_start() -> None:
    frame = pd.DataFrame({"timestamp": [2000, 4000, 6000, 8000], "stage": [1, 1, 2, 2]})
    assert stage_marks(frame, 2000) == [(0, "stage 1 begins"), (4000, "stage 2 begins")]
    assert stage_marks(frame.drop(columns="stage"), 2000) == []


def test_connections_over_time_has_a_row_per_peer_and_sample() -> None:
    found = meshes([(0, [entry("a", "l", "b"), entry("b", "l")]), (5000, [entry("a", "l")])]).meshes
    rows = connections_over_time(found)
    assert rows.values.tolist() == [[0, "a", 1], [0, "b", 1], [5000, "a", 0]]


def test_topology_is_read_from_the_sibling_file_or_the_json(tmp_path: Path) -> None:
    parquet = tmp_path / "t-1.parquet"
    assert topology(parquet) is None  # not sampled: no sibling
    write_topology(tmp_path / "t-1.topology.parquet", [])
    assert topology(parquet) is None  # not sampled: an empty one (--topology-interval 0)
    body = [entry("a", "blue", "b")]
    write_topology(tmp_path / "t-1.topology.parquet", [TopologyPoint(5, body), TopologyPoint(9, [])])
    assert topology(parquet) == [(5, body), (9, [])]
    document = tmp_path / "t-2.json"
    document.write_text(json.dumps({"dataPoints": [], "topologyDataPoints": [{"timestamp": 3, "topology": body}]}))
    assert topology(document) == [(3, body)]
    document.write_text(json.dumps({"dataPoints": [], "topologyDataPoints": []}))
    assert topology(document) is None
    (tmp_path / "t-1.topology.parquet").write_text("not parquet")
    with pytest.raises(ResultsFileError, match=r"t-1\.parquet: its topology samples are not readable"):
        topology(parquet)
