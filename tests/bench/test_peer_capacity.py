"""Smoke test of bench/peer_capacity.py: two tiny whole layers, each in its own process, are reported."""

from __future__ import annotations

import math
from pathlib import Path

from tests.bench.conftest import run_bench


def test_each_layer_is_measured_and_compared_with_the_first(tmp_path: Path) -> None:
    document = run_bench(
        "peer_capacity.py",
        tmp_path,
        *("--layers", "3,4", "--seconds", "3", "--stats-interval", "0.5", "--rate-scale", "0.5"),
    )
    assert document["parameters"]["rate_scale"] == 0.5
    layers = document["results"]["layers"]
    assert [row["layer"] for row in layers] == [3, 4]
    for row in layers:
        assert row["received_per_peer"] > 0 and row["cpu_percent"] > 0, row  # the routine ran and was counted
        assert math.isfinite(row["per_packet_m_percent"]) and row["tick_lag_p99"] >= 0, row
    assert layers[0]["cpu_per_peer_ratio"] == 1.0 and layers[0]["received_per_peer_ratio"] == 1.0
    assert document["results"]["peers_per_core_at_100"] > 0
