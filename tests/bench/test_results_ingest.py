"""Smoke test of bench/results_ingest.py: both sinks ingest everything, both servers answer wrk."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.bench.conftest import run_bench


def test_actor_and_http_ingest_are_measured_against_their_baselines(tmp_path: Path) -> None:
    document = run_bench(
        "results_ingest.py",
        tmp_path,
        *("--batches", "6", "--batch-size", "3", "--seconds", "1", "--connections", "4", "--rounds", "1"),
    )
    results = document["results"]
    assert [row["sink"] for row in results["actor"]] == ["no-op actor", "results actor (Parquet)"]
    assert all(run["datapoints"] == 18 and run["datapoints_per_second"] > 0 for run in results["actor_runs"])
    if shutil.which("wrk"):
        assert [row["server"] for row in results["http"]] == ["bare aiohttp handler", "results gateway"]
        assert all(run["requests"] > 0 and run["body_bytes"] > 1000 for run in results["http_runs"])
    else:
        assert results["http"] == []
