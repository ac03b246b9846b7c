"""A results process killed mid-test loses at most one flush interval, and a restart can finish it."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pandas as pd
import pytest

from tests.results.conftest import metrics_body
from tests.serviceprocess import start_service_process

DEADLINE = 20.0


async def start_service(folder: Path, flush_interval: float) -> tuple[asyncio.subprocess.Process, str]:
    env = {
        "PORT": "0",
        "RESULTS_HOST": "127.0.0.1",
        "TEST_RESULTS_LOCATION": str(folder),
        "FLUSH_INTERVAL": str(flush_interval),
    }
    proc, port = await start_service_process("peerperf.results", env)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        yield session


def stored_rows(parts: Path) -> int:
    files = sorted(parts.glob("part-*.parquet"))
    return sum(len(pd.read_parquet(p)) for p in files)


async def test_kill_mid_test_then_restart_and_finish(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    proc, base = await start_service(tmp_path, flush_interval=0.1)
    try:
        await http.post(f"{base}/test/crashy", json={"started": True})
        for n in range(40):
            await http.put(f"{base}/test/crashy/peer/p{n % 4}/metrics", json=metrics_body(n))
        deadline = time.monotonic() + DEADLINE  # bounded wait for the periodic flush to cover them
        while stored_rows(tmp_path / ".peerperf" / "crashy.parts") < 40:
            assert time.monotonic() < deadline, "40 acknowledged datapoints were never flushed"
            await asyncio.sleep(0.05)
        await http.put(f"{base}/test/crashy/topology", json=[{"id": "p0", "connectedPeerIds": ["p1"]}])
        await http.put(f"{base}/test/crashy/peer/p0/results", json={"sentTotal": 39})
        while not (tmp_path / ".peerperf" / "crashy.results.jsonl").exists():
            assert time.monotonic() < deadline, "acknowledged results were never flushed"
            await asyncio.sleep(0.05)
        for n in range(40, 45):  # acknowledged, perhaps not flushed: these may be lost
            await http.put(f"{base}/test/crashy/peer/p0/metrics", json=metrics_body(n))
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

    parts = tmp_path / ".peerperf" / "crashy.parts"
    survived = pd.concat(pd.read_parquet(p) for p in sorted(parts.glob("*.parquet")))
    assert 40 <= len(survived) <= 45
    assert survived["sentTotal"].tolist() == list(range(len(survived)))  # nothing torn, order kept

    proc, base = await start_service(tmp_path, flush_interval=0.1)
    try:
        async with http.get(f"{base}/test/crashy") as resp:
            info = await resp.json()
        assert info["started"] > 0 and "finished" not in info
        await http.put(f"{base}/test/crashy/peer/late/metrics", json=metrics_body(99))
        await http.put(f"{base}/test/crashy/finish")
        async with http.get(f"{base}/test/crashy?dataPoints=true") as resp:
            final = await resp.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    totals = [p["metrics"]["sentTotal"] for p in final["dataPoints"]]
    assert final["topologyDataPoints"][0]["topology"] == [{"id": "p0", "connectedPeerIds": ["p1"]}]
    assert final["results"]["p0"]["sentTotal"] == 39
    assert totals == [*range(len(survived)), 99]
    frame = pd.read_parquet(tmp_path / "crashy.parquet")
    assert frame["sentTotal"].tolist() == totals and frame["peerId"].iloc[-1] == "late"
