"""Smoke of bench/ping_rounds.py: a small packed room with its timers in lockstep, spread, and without pings,
each in a fresh process; figures are read back, nothing about timing is asserted."""

from __future__ import annotations

import math
from pathlib import Path

from tests.bench.conftest import run_bench


def test_lockstep_spread_and_off_each_report_their_rounds(tmp_path: Path) -> None:
    document = run_bench("ping_rounds.py", tmp_path, "--rounds", "1", "--peers", "4", "--seconds", "10", timeout=400)
    samples = {s["layout"]: s for s in document["results"]["samples"]}
    assert set(samples) == {"lockstep", "spread", "off"}
    assert samples["off"]["rounds"] == 0 and samples["off"]["received_pongs_per_round"] == 0
    for layout in ("lockstep", "spread"):
        sample = samples[layout]
        assert sample["rounds"] >= 4, sample  # every peer pings at least once in 10 s
        # Every other peer answers the ping (at least once: each copy it receives is answered, as the original).
        assert sample["created_pongs_per_round"] >= 3 and sample["received_pongs_per_round"] >= 3, sample
    for sample in samples.values():
        assert math.isfinite(sample["tick_lag_p99"]) and 0 <= sample["skipped_share"] <= 1, sample
        assert math.isfinite(sample["received_deviation"]), sample
    assert math.isfinite(document["results"]["medians"]["round"]["cpu_ms"])
