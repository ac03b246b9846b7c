"""Smoke test of bench/data_path.py: all four meshes deliver, the fast and compiled ones through their
paths, and the profile names functions."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_stock_tuned_fast_and_compiled_meshes_are_measured_in_one_process(tmp_path: Path) -> None:
    document = run_bench(
        "data_path.py", tmp_path, "--peers", "2", "--rate", "30", "--seconds", "0.5", "--windows", "1", "--profile"
    )
    summary = document["results"]["summary"]
    assert [row["variant"] for row in summary] == ["stock", "tuned", "fast", "compiled"] and summary[0]["ratio"] == 1.0
    runs = document["results"]["runs"]
    assert all(run["delivered"] > 0 for run in runs)
    assert all(run["fast_datagrams"] > 0 for run in runs if run["variant"] == "fast"), "the fast path never ran"
    assert all(run["compiled_packets"] > 0 for run in runs if run["variant"] == "compiled"), "compiled never ran"
    profile = document["results"]["profile"]
    assert any("fast_path.py" in entry["function"] for entry in profile["fast_top"])
    assert any("compiled_path.py" in entry["function"] for entry in profile["compiled_top"])
    assert set(profile["calls_per_message"]) == {"stock", "tuned", "fast", "compiled"}
    assert all(count > 10 for count in profile["calls_per_message"].values())
    assert document["parameters"]["load_average_before"]
