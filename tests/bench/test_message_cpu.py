"""Smoke test of bench/message_cpu.py: every variant on both loops delivers and is reported."""

from __future__ import annotations

import math
from pathlib import Path

from tests.bench.conftest import run_bench


def test_every_variant_delivers_and_gets_a_ratio(tmp_path: Path) -> None:
    document = run_bench(
        "message_cpu.py", tmp_path, "--peers", "2", "--rate", "10", "--seconds", "0.5", "--rounds", "1"
    )
    summary = document["results"]["summary"]
    assert {(row["variant"], row["loop"]) for row in summary} == {
        (variant, loop) for variant in ("stock", "tuned", "peer", "peer-stock") for loop in ("asyncio", "uvloop")
    }
    for run in document["results"]["runs"]:
        assert run["delivered"] > 0, run
        assert run["cpu_seconds"] > 0 and math.isfinite(run["us_per_message"]), run
    baseline = next(row for row in summary if row["variant"] == "stock" and row["loop"] == "asyncio")
    assert baseline["ratio"] == 1.0 and baseline["round_ratios"] == [1.0]
    for row in summary:
        assert len(row["round_ratios"]) == 1 and row["round_ratio_median"] == row["round_ratios"][0], row
