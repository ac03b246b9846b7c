"""Comparisons flag real differences and only those."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from peerperf.analysis.cli import main
from peerperf.analysis.comparison import WITHIN_RUN_ONLY, compare, compare_groups, compare_sides, settings_that_differ
from peerperf.analysis.groups import summaries_by
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.datapoints import to_table
from peerperf.results.model import DataPoint
from tests.analysis.fixtures import Scenario


def test_a_real_change_is_significant_and_no_change_is_not() -> None:
    base = Scenario(peers=12, test_id="a", latency_ms={i: [4.0 + i % 3] for i in range(12)}, lost={0: 0.05})
    same = Scenario(peers=12, test_id="b", latency_ms={i: [4.0 + (i + 1) % 3] for i in range(12)}, lost={3: 0.05})
    slower = Scenario(peers=12, test_id="c", latency_ms={i: [12.0 + i % 3] for i in range(12)}, target=4)
    result = compare([base.frame(), same.frame(), slower.frame()], ["a", "b", "c"], resamples=500)
    by_name = {d.name: d for d in result.differences}
    latency = by_name["latency.position.p50"]
    assert latency.significant == [False, True]
    assert latency.deltas[1] > 5
    connections = by_name["connections"]
    assert connections.values == [2.0, 2.0, 4.0]
    assert connections.significant == [False, True]
    assert by_name["delivery"].significant[0] is False
    low, high = by_name["delivery"].intervals[0]
    assert low <= 0 <= high


def test_settings_that_differ() -> None:
    runs = [
        {"settings": {"target_connections": 2, "peers": 8, "output": "/tmp/a"}},
        {"settings": {"target_connections": 4, "peers": 8, "output": "/tmp/b"}},
    ]
    assert settings_that_differ(runs) == {"target_connections": [2, 4]}  # where results went is no difference


def test_groups_of_one_run_are_summarised_and_compared() -> None:
    slow = {i: [40.0 + i % 2] if i % 2 else [4.0 + i % 3] for i in range(12)}
    frame = Scenario(peers=12, latency_ms=slow).frame()
    frame["impairment"] = ["delay=40ms" if int(p.rsplit("-", 1)[1]) % 2 else "" for p in frame["peerId"]]
    groups = summaries_by(frame, "impairment")
    assert set(groups) == {"", "delay=40ms"} and groups[""]["peers"] == 6
    assert float(groups["delay=40ms"]["latency.position.p50"]) > 30 > float(groups[""]["latency.position.p50"])
    assert groups[""]["delivery"] == 1.0
    result = compare_groups(frame, "impairment", resamples=300)
    by_name = {d.name: d for d in result.differences}
    assert result.names == ["(none)", "delay=40ms"]
    assert by_name["latency.position.p50"].significant == [True]
    assert by_name["delivery"].significant == [False]


def test_one_run_per_side_says_its_interval_is_within_run_only() -> None:
    six, seven = Scenario(peers=12, test_id="a", target=6), Scenario(peers=12, test_id="b", target=7)
    result = compare([six.frame(), seven.frame()], ["a", "b"], resamples=300)
    assert result.notes == [WITHIN_RUN_ONLY]
    assert {d.name: d for d in result.differences}["connections"].significant == [
        True
    ]  # a mesh that formed differently


def test_several_runs_per_side_see_the_run_to_run_variance() -> None:
    def runs(name: str) -> list[pd.DataFrame]:
        return [
            Scenario(peers=12, test_id=f"{name}{i}", target=target).frame() for i, target in enumerate((6, 7, 6, 7))
        ]

    same = compare_sides([runs("a"), runs("b")], ["baseline", "candidate"], resamples=500)
    connections = {d.name: d for d in same.differences}["connections"]
    assert connections.values == [6.5, 6.5] and connections.significant == [False]
    low, high = connections.intervals[0]
    assert low < -0.2 and high > 0.2  # the spread between runs, not only between peers (whose is zero here)
    assert same.runs == [["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"]] and same.notes == []
    more = [Scenario(peers=12, test_id=f"c{i}", target=9).frame() for i in range(4)]
    changed = compare_sides([runs("a"), more], resamples=500)
    assert {d.name: d for d in changed.differences}["connections"].significant == [True]


def test_the_cli_compares_sides_of_several_runs(tmp_path: Path) -> None:
    paths = {}
    for name, target in (("a1", 6), ("a2", 7), ("b1", 6), ("b2", 7)):
        rows = [{**row, "position": [0.0, 0.0, 0.0]} for row in Scenario(peers=6, test_id=name, target=target).rows()]
        points = [DataPoint(row["peerId"], row["timestamp"], validate_metrics(row)) for row in rows]
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(to_table(points), paths[name])
    out = tmp_path / "compare.json"
    argv = ["compare", "--baseline", str(paths["a1"]), str(paths["a2"]), "--candidate", str(paths["b1"])]
    assert main([*argv, str(paths["b2"]), "--json", str(out), "--resamples", "200"]) == 0
    document = json.loads(out.read_text())
    assert document["sides"] == ["baseline", "candidate"] and document["runs"] == [["a1", "a2"], ["b1", "b2"]]
    assert main(["compare", "--baseline", str(paths["a1"])]) == 2  # a baseline needs a candidate
