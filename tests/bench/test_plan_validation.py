"""Smoke test of bench/plan_validation.py: tiny real layers against their prediction, a low-rate copies check and
a published plan, every figure present."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench
from tests.sizing.fixtures import calibration


def test_predictions_are_compared_with_real_layers(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    calibration().save(path)
    document = run_bench(
        "plan_validation.py",
        tmp_path,
        *("--sizes", "2,3", "--repeats", "1", "--seeds", "1", "--seconds", "10", "--calibration", str(path)),
        *("--copies-sizes", "4", "--copies-rate", "0.5", "--predict", "6", "--node-cpus", "4"),
    )
    results = document["results"]
    assert [row["layer"] for row in results["full_rate"]] == [2, 3]
    for row in results["full_rate"] + results["copies"]:
        assert row["measured_received"] > 0 and row["predicted_received"] > 0, row
        assert row["received_ratio"] == row["predicted_received"] / row["measured_received"]
        assert row["measured_cpu_per_peer"] > 0 and len(row["measured"]) == 1
    assert results["copies"][0]["routine"] == "validation_routine:routine"
    # Half the default rate to 3 others, pings off: about 3 x 5.55 packets/s arrive.
    assert 0.5 < results["copies"][0]["measured_received"] / (3 * 5.55) < 2
    (plan,) = results["plans"]
    assert plan["request"]["layer_size"] == 6 and plan["request"]["node_cpus"] == 4 and plan["nodes"] >= 1
    assert document["parameters"]["calibration"] == str(path)
