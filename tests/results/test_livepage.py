"""The live page at `/`: files from the package (no CDN), an event stream pushing a sample at least once a second."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from peerperf.httpserver import serving
from peerperf.results.assembly import ResultsStack
from peerperf.results.livepage import STATIC
from peerperf.results.model import Submission
from peerperf.results.settings import ResultsSettings
from tests.results.conftest import metrics_body


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[str, ResultsStack]]:
    stack = ResultsStack.build(ResultsSettings(location=str(tmp_path), flush_interval=0.05))
    async with serving(stack.app(), "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}", stack


async def _events(resp: aiohttp.ClientResponse, count: int) -> AsyncIterator[tuple[str, Any, float]]:
    name = ""
    while count:
        line = (await resp.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            count -= 1
            yield name, json.loads(line[len("data: ") :]), time.monotonic()


async def test_the_page_and_its_script_come_from_the_package_with_the_charting_librarys_licence(
    live: tuple[str, ResultsStack],
) -> None:
    base, _ = live
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            html = await resp.text()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/live/static/") or s.startswith("data:") for s in sources), sources
        for source in sources:
            if source.startswith("/"):
                async with http.get(base + source) as resp:
                    assert resp.status == 200, source
    assert "uPlot" in (STATIC / "vendor" / "uPlot.iife.min.js").read_text()
    assert "MIT License" in (STATIC / "vendor" / "uPlot.LICENSE").read_text()
    assert "http" not in (STATIC / "live.js").read_text()  # no CDN, no other origin


async def test_the_event_stream_replays_the_history_then_pushes_a_sample_at_least_once_a_second(
    live: tuple[str, ResultsStack],
) -> None:
    base, stack = live
    await stack.service.create_test("live-1")
    await stack.service.start_test("live-1")
    await stack.service.submit_batch(
        "live-1", [Submission(f"peer-{i}", metrics_body(1, originatedPerSecond=11.0, hostId="h")) for i in range(3)]
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/live/tests") as resp:
            assert [t["id"] for t in (await resp.json())["live"]] == ["live-1"]
        async with http.get(base + "/live/live-1/events") as resp:
            assert resp.content_type == "text/event-stream"
            received = [event async for event in _events(resp, 4)]
        async with http.get(base + "/live/nope/events") as resp:
            assert resp.status == 404
    assert received[0][0] == "history" and [name for name, _, _ in received[1:]] == ["sample"] * 3
    samples = [data for _, data, _ in received[1:]]
    assert all(s["originatedPerSecond"] == 33.0 and s["peersReporting"] == 3 for s in samples)
    # These datapoints carry no host window (no CPU, no tick lag): the live verdict cannot vouch for the run.
    assert samples[-1]["status"]["started"] is not None and samples[-1]["verdict"]["harness"] == "unknown"
    gaps = [b - a for (_, _, a), (_, _, b) in itertools.pairwise(received[1:])]
    assert max(gaps) <= 1.0, gaps
