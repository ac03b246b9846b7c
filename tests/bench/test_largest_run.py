"""Smoke test of bench/largest_run.py: two tiny whole runs through `python -m peerperf.run`, each read back.
Started early, beside the other bench tests (conftest's `EARLY`: 8 s runs, so windows 1..4 are whole and 2
are steady after the 2 warm-up windows; cores per peer needs 1)."""

from __future__ import annotations

from tests.bench.conftest import early_bench
from tests.statuses import FROM_LOAD_ALONE


def test_each_size_is_a_whole_run_with_its_verdict() -> None:
    document = early_bench("largest_run.py")
    sizes = document["results"]["sizes"]
    assert [(row["peers"], row["layers"]) for row in sizes] == [(2, "1 layer of 2"), (3, "1 layer of 3")]
    for row in sizes:
        assert row["exit_code"] in (0, 3) and row["status"] in FROM_LOAD_ALONE, row
        assert row["cores_per_peer"] > 0 and row["received_per_peer"] > 0, row  # the peers heard each other
        assert row["healthy"] == (row["status"] == "healthy" and row["loss"] == 0), row
    assert sizes[0]["cores_per_peer_vs_smallest"] == 1.0
    healthy = [row["peers"] for row in sizes if row["healthy"]]
    assert document["results"]["largest_healthy"] == (max(healthy) if healthy else None)
