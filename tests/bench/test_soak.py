"""30-second smoke of bench/soak.py (started early, beside the other bench tests: conftest's `EARLY`):
peers join and leave, nothing leaks that a short run can see."""

from __future__ import annotations

import math

from tests.bench.conftest import early_bench


def test_a_short_soak_keeps_every_datapoint_and_its_file_descriptors() -> None:
    document = early_bench("soak.py")
    result = document["results"]
    assert result["churn"]["hosts"] >= 2 and result["churn"]["joined"] == result["churn"]["left"] > 0
    assert result["datapoints_in"] == result["datapoints_out"] > 0
    assert result["samples"] >= 10
    for name in ("results", "lighthouse", "steady_host"):
        process = result["processes"][name]
        assert math.isfinite(process["uss_slope_mb_per_min"]), name
        # Peers that left leave no sockets behind: the count ends near where it began.
        assert process["fds_last"] <= process["fds_first"] + 10, (name, process)
