"""Smoke test of bench/gateway_vs_original.py: all three servers answer the metrics PUT with the body
echoed, then take wrk's load without a failed request (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.conftest import run_bench

pytestmark = [pytest.mark.nodejs, pytest.mark.wrk]

SERVERS = ["bare aiohttp handler", "results gateway", "original express server"]


def test_gateway_bare_handler_and_original_server_echo_the_body_under_wrk(tmp_path: Path) -> None:
    document = run_bench("gateway_vs_original.py", tmp_path, *("--seconds", "1", "--connections", "4", "--rounds", "1"))
    results = document["results"]
    assert results["checks"] == [{"server": name, "status": 200, "echoed": True} for name in SERVERS]
    assert [row["server"] for row in results["servers"]] == SERVERS
    assert sorted(run["server"] for run in results["runs"]) == sorted(SERVERS)
    assert all(run["requests"] > 0 and run["body_bytes"] > 1000 for run in results["runs"])
