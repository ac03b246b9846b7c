"""A full or read-only results folder: a clear error at start; mid-test a loud failure that loses nothing.

The folder is a real, small tmpfs (mounting needs root, which CI has): the disk really fills and
writes really fail with ENOSPC / EROFS.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pandas as pd
import pytest

from peerperf.httpserver import serving
from peerperf.results import ResultsService, ResultsSettings, create_app
from tests.results.conftest import metrics_body

pytestmark = pytest.mark.root  # mounts a tmpfs

DEADLINE = 20.0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB tmpfs of the test's own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk has no byte left; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    while True:  # the last partial chunk
        try:
            with filler.open("ab", buffering=0) as out:
                out.write(b"\0")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            return filler


def run_module(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    environ.pop("RAY_ADDRESS", None)
    return subprocess.run(
        [sys.executable, "-m", module, *args], env=environ, capture_output=True, text=True, timeout=120
    )


def test_a_full_results_folder_is_refused_at_start(disk: Path) -> None:
    fill(disk)
    service = run_module("peerperf.results", env={"TEST_RESULTS_LOCATION": str(disk / "r"), "RESULTS_PORT": "0"})
    assert service.returncode == 2
    assert f"the results folder {disk / 'r'}" in service.stderr and "No space left on device" in service.stderr
    run = run_module("peerperf.run", "--peers", "2", "--duration", "5", "--output", str(disk / "out"))
    assert run.returncode == 2 and "No space left on device" in run.stderr and str(disk / "out") in run.stderr
    assert "Traceback" not in service.stderr + run.stderr


def test_a_read_only_results_folder_is_refused_at_start(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    service = run_module("peerperf.results", env={"TEST_RESULTS_LOCATION": str(disk), "RESULTS_PORT": "0"})
    assert service.returncode == 2 and "Read-only file system" in service.stderr


def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".peerperf/*.parts/part-*.parquet"))


async def test_the_disk_filling_mid_test_is_loud_and_loses_nothing(disk: Path) -> None:
    settings = ResultsSettings(location=str(disk), flush_interval=0.05)
    service = ResultsService(settings)
    async with serving(create_app(service), "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"

        async def call(method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:
            async with http.request(method, base + path, json=body) as resp:
                return resp.status, await resp.json()

        assert (await call("POST", "/test/full", {"started": True}))[0] == 200
        for n in range(20):
            assert (await call("PUT", f"/test/full/peer/p{n % 4}/metrics", metrics_body(n)))[0] == 200
        deadline = time.monotonic() + DEADLINE
        while sum(len(pd.read_parquet(p)) for p in part_files(disk)) < 20:
            assert time.monotonic() < deadline, "20 datapoints were never flushed"
            await asyncio.sleep(0.05)
        written = {p: p.read_bytes() for p in part_files(disk)}

        filler = fill(disk)
        for n in range(20, 40):  # accepted into memory: the peers are not made to pay for the disk
            assert (await call("PUT", f"/test/full/peer/p{n % 4}/metrics", metrics_body(n)))[0] == 200
        while service.supervisor.errors < 2:  # every failed flush is logged and counted
            assert time.monotonic() < deadline, "a failing flush went unnoticed"
            await asyncio.sleep(0.05)
        status, body = await call("GET", "/status")
        assert status == 200 and isinstance(body["harnessErrors"], int) and body["harnessErrors"] >= 2

        status, body = await call("PUT", "/test/full/finish")
        assert status == 507 and body["status"] == "insufficient-storage"
        assert f"the results folder {disk}" in str(body["message"]) and "No space left on device" in str(
            body["message"]
        )
        status, body = await call("GET", "/test/full")
        assert status == 200 and "finished" not in body  # still ongoing: the finish can be retried
        assert {p: p.read_bytes() for p in part_files(disk)[: len(written)]} == written  # what was written stands
        assert not list(disk.glob("*.tmp")) and not list(disk.glob(".peerperf/*.parts/*.tmp"))

        filler.unlink()  # space again: the next finish writes everything
        status, _ = await call("PUT", "/test/full/finish")
        assert status == 200
    frame = pd.read_parquet(disk / "full.parquet")
    assert frame["sentTotal"].tolist() == list(range(40))


async def test_while_the_disk_is_full_memory_is_bounded_and_what_is_refused_can_be_sent_again(disk: Path) -> None:
    settings = ResultsSettings(location=str(disk), flush_interval=0.05, flush_rows=5, max_buffered_rows=30)
    service = ResultsService(settings)
    async with serving(create_app(service), "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"

        async def put(n: int) -> int:
            body = metrics_body(n, window=n)
            async with http.put(f"{base}/test/capped/peer/p0/metrics", json=body) as resp:
                return resp.status

        async with http.post(f"{base}/test/capped", json={"started": True}) as resp:
            assert resp.status == 200
        filler = fill(disk)
        statuses = [await put(n) for n in range(45)]
        # Kept in memory up to the cap (an early flush failing does not fail the submission), then refused.
        assert statuses == [200] * 30 + [507] * 15
        async with http.put(f"{base}/test/capped/peer/p0/metrics", json=metrics_body(99, window=99)) as resp:
            body = await resp.json()
        assert resp.status == 507 and body["status"] == "insufficient-storage" and "not stored" in body["message"]
        filler.unlink()
        deadline = time.monotonic() + DEADLINE
        while await put(30) != 200:  # the flusher empties the buffer once there is room
            assert time.monotonic() < deadline, "the buffered datapoints were never written"
            await asyncio.sleep(0.05)
        assert [await put(n) for n in range(31, 45)] == [200] * 14
        assert [await put(n) for n in range(45)] == [200] * 45  # copies of what is stored: accepted, not stored
        async with http.put(f"{base}/test/capped/finish") as resp:
            assert resp.status == 200
    assert sorted(pd.read_parquet(disk / "capped.parquet")["sentTotal"]) == list(range(45))
