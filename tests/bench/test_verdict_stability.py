"""Smoke of bench/verdict_stability.py: one short run with pings and its pings-off baseline, each a whole
`python -m peerperf.run` in a fresh process; verdicts and tick figures are read back (no timing asserted)."""

from __future__ import annotations

import math
from pathlib import Path

from tests.bench.conftest import run_bench
from tests.statuses import FROM_LOAD_ALONE


def test_one_run_and_its_baseline_report_a_verdict_and_tick_figures(tmp_path: Path) -> None:
    document = run_bench(
        "verdict_stability.py",
        tmp_path,
        *("--runs", "1", "--peers", "3", "--duration", "8", "--layouts", "packed", "--seed", "5"),
        timeout=600,
    )
    runs = document["results"]["runs"]
    assert [(r["layout"], r["pings"]) for r in runs] == [("packed", True), ("packed", False)]
    for run in runs:
        assert run["verdict"] in FROM_LOAD_ALONE, run
        assert run["exit_code"] == 0 and run["timer_seed"] == 5, run
        assert run["tick_lag_p99_ms"] is not None and run["tick_lag_p99_ms"] >= 0, run
        assert 0 <= run["skipped_share"] <= 1 and not math.isnan(run["skipped_share"]), run
    layout = document["results"]["layouts"]["packed"]
    assert layout["runs"] == 1 and layout["identical"] == 1 and sum(layout["verdicts"].values()) == 1
