"""Smoke test of bench/results_ingest.py: both sinks ingest every datapoint."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_batched_ingest_is_measured_against_a_noop_actor(tmp_path: Path) -> None:
    document = run_bench("results_ingest.py", tmp_path, *("--batches", "6", "--batch-size", "3", "--rounds", "1"))
    results = document["results"]
    assert [row["sink"] for row in results["actor"]] == ["no-op actor", "results actor (Parquet)"]
    assert all(run["datapoints"] == 18 and run["datapoints_per_second"] > 0 for run in results["actor_runs"])
