"""Smoke test of bench/time_to_ready.py: all three ways of starting reach ready and are timed."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_packed_and_one_actor_each_reach_ready(tmp_path: Path) -> None:
    document = run_bench("time_to_ready.py", tmp_path, "--peers", "2", "--rounds", "1")
    rows = document["results"]["summary"]
    assert [row["how"] for row in rows] == ["2 bare Ray actors", "one actor per peer", "packed in one actor"]
    assert all(row["seconds"] > 0 for row in rows) and rows[0]["ratio"] == 1.0
