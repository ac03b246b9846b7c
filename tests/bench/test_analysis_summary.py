"""Smoke test of bench/analysis_summary.py: generated datapoints load and summarise, against a baseline."""

from __future__ import annotations

from pathlib import Path

from peerperf.analysis.verdict import Status
from tests.bench.conftest import run_bench


def test_a_generated_test_is_summarised(tmp_path: Path) -> None:
    document = run_bench("analysis_summary.py", tmp_path, "--peers", "20", "--windows", "30", "--rounds", "1")
    results = document["results"]
    assert results["datapoints"] == 600 and len(results["runs"]) == 1
    assert results["load_plus_summary_s"] > 0 and results["baseline_s"] > 0
    assert results["harness_of_generated_data"] in {str(status) for status in Status}
