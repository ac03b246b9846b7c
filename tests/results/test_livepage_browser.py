"""The live page in real headless Chromium during a real run: no console error, charts that keep moving."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from tests.browser import devtools
from tests.runcli import Run

pytestmark = pytest.mark.browser

CHARTS = ("packets", "arrived", "latency", "connections", "ticklag", "cpu", "peers")
POINTS = "Object.fromEntries([...document.querySelectorAll('.chart')].map(c => [c.id, +c.dataset.points]))"


async def test_the_live_page_charts_a_running_test(tmp_path: Path) -> None:
    run = await Run.start("--peers", "3", "--duration", "25", "--ping-interval", "off", "--output", str(tmp_path))
    try:
        line = await run.until("live page: ")
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        await run.until("[running]")
        async with devtools(url[0], tmp_path / "chromium") as page:
            deadline = time.monotonic() + 60
            first: dict[str, int] = {}
            while not first or min(first.values()) < 2:  # bounded poll: the charts got their first points
                assert time.monotonic() < deadline, f"charts never filled: {first}, errors {page.errors}"
                await asyncio.sleep(0.25)
                first = await page.evaluate(POINTS)
            assert set(first) == {f"chart-{name}" for name in CHARTS}
            later = first
            while min(later[k] - first[k] for k in first) < 3:  # every chart got new points, from the DOM
                assert time.monotonic() < deadline, f"charts stopped moving: {first} -> {later}"
                await asyncio.sleep(0.25)
                later = await page.evaluate(POINTS)
            canvases = await page.evaluate("document.querySelectorAll('.chart canvas').length")
            evidence = ""
            while "tick lag p99" not in evidence:  # the verdict's evidence, once a window after the warm-up is in
                assert time.monotonic() < deadline, f"no evidence shown: {evidence!r}"
                await asyncio.sleep(0.25)
                evidence = await page.evaluate("document.getElementById('evidence').textContent")
            verdict = await page.evaluate("document.getElementById('verdict').textContent")
            status = await page.evaluate("document.getElementById('status').textContent")
            hosts = await page.evaluate("document.querySelector('#chart-cpu .u-legend').textContent")
            assert page.errors == []
        assert canvases == len(CHARTS)
        assert verdict.startswith("verdict so far: harness ") and "loss " in verdict, verdict
        assert "running" in status and "datapoints" in status, status
        assert hosts.count("host-") == 3, hosts  # one CPU series per peer host
    finally:
        code = await run.finish()
    assert code == 0, run.output
