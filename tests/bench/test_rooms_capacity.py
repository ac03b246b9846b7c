"""Smoke test of bench/rooms_capacity.py: two small populations in rooms of 2, each in its own process, on the
data path asked for."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_each_size_is_measured_with_its_health(tmp_path: Path) -> None:
    document = run_bench(
        "rooms_capacity.py",
        tmp_path,
        *("--peers", "2,4", "--room-size", "2", "--seconds", "3", "--stats-interval", "0.5", "--data-path", "compiled"),
    )
    assert document["parameters"]["data_path"] == "compiled"
    sizes = document["results"]["sizes"]
    assert [row["peers"] for row in sizes] == [2, 4]
    for row in sizes:
        assert row["received_per_peer"] > 0 and row["cpu_percent"] > 0, row  # peers in each room heard each other
        assert 0 <= row["loss"] <= 1 and row["tick_lag_p99"] >= 0, row
        assert row["cores_per_peer"] == row["cpu_percent"] / 100 / row["peers"]
    healthy = [row["peers"] for row in sizes if row["healthy"]]
    assert document["results"]["largest_healthy"] == (max(healthy) if healthy else None)
