"""Comparisons flag real differences and only those."""

from __future__ import annotations

from analysis.compare import compare, settings_that_differ
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
    runs = [{"settings": {"target_connections": 2, "peers": 8}}, {"settings": {"target_connections": 4, "peers": 8}}]
    assert settings_that_differ(runs) == {"target_connections": [2, 4]}
