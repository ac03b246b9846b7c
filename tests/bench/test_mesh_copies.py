"""Smoke test of bench/mesh_copies.py: copies per packet for two small layers, one simulated whole too."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_copies_are_reported_by_layer_size(tmp_path: Path) -> None:
    document = run_bench(
        "mesh_copies.py",
        tmp_path,
        *("--layers", "4,12", "--floods", "2", "--whole-up-to", "4", "--duration", "8"),
    )
    rows = document["results"]["layers"]
    assert [row["layer"] for row in rows] == [4, 12]
    assert all(row["flood_copies_per_receiver"] >= 1 and not row["flood_lower_bound"] for row in rows)
    assert rows[1]["flood_copies_per_receiver"] > rows[0]["flood_copies_per_receiver"]  # grows with the layer
    assert rows[0]["whole_complete"] and rows[0]["received_per_peer"] >= rows[0]["unique_per_peer"] > 0
    assert rows[0]["copies_per_unique"] == rows[0]["received_per_peer"] / rows[0]["unique_per_peer"]
    assert rows[1]["whole_complete"] is None  # above --whole-up-to: the flood probe only
