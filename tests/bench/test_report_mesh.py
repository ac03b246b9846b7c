"""Smoke test of bench/report_mesh.py: a generated run's report with and without its topology, against a baseline."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_the_report_is_written_with_and_without_the_mesh(tmp_path: Path) -> None:
    document = run_bench("report_mesh.py", tmp_path, "--peers", "20", "--windows", "10", "--rounds", "1")
    results = document["results"]
    assert results["datapoints"] == 200 and results["topology_samples"] == 4 and len(results["runs"]) == 1
    assert results["with_mb"] > results["without_mb"] > 0, "the mesh pictures are in the report"
    assert results["with_s"] > 0 and results["without_s"] > 0
