"""Smoke test of bench/gateway_vs_original.py: every server answers the metrics PUT with the body echoed,
takes wrk's load without a failed request, reports its latency percentiles and the `GET /time` probe,
and each results server finishes the test it was filled with (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.conftest import run_bench
from tests.conftest import shared_dir

ORIGINAL = shared_dir() / "original"
pytestmark = [pytest.mark.nodejs, pytest.mark.wrk]

SERVERS = ["bare aiohttp handler", "results gateway", "original results server"]
RESULTS_SERVERS = SERVERS[1:]


def test_gateway_bare_handler_and_original_server_echo_the_body_under_wrk(tmp_path: Path) -> None:
    if not (ORIGINAL / "results-server.js").exists():
        pytest.skip(f"{ORIGINAL} is absent: the original system (not data, not copied) sits beside the checkout")
    document = run_bench("gateway_vs_original.py", tmp_path, *("--seconds", "1", "--connections", "4", "--rounds", "1"))
    results = document["results"]
    assert results["checks"] == [{"server": name, "status": 200, "echoed": True} for name in SERVERS]
    assert [row["server"] for row in results["servers"]] == SERVERS
    assert sorted(run["server"] for run in results["runs"]) == sorted(SERVERS)
    for run in results["runs"]:
        assert run["requests"] > 0 and run["body_bytes"] > 1000
        assert 0 < run["p50_ms"] <= run["p90_ms"] <= run["p99_ms"] <= run["max_ms"]
        assert run["probe_requests"] > 0 and run["probe_max_ms"] >= run["probe_p50_ms"] > 0
    finishes = {finish["server"]: finish for finish in results["finish"]}
    assert sorted(finishes) == sorted(RESULTS_SERVERS)
    for finish in finishes.values():  # every datapoint wrk had answered is in the finished test
        assert finish["datapoints"] >= finish["wrk_requests"] > 0 and finish["finish_seconds"] > 0
