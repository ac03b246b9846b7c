"""Comparisons flag real differences and only those."""

from __future__ import annotations

from peerperf.analysis.compare import compare, compare_groups, settings_that_differ
from peerperf.analysis.summary import summaries_by
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
