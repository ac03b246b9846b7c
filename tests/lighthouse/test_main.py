"""`python -m peerperf.lighthouse` as a user runs it: start line, serving, clean stop, clear refusal."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import aiohttp


async def test_standalone_lighthouse_serves_and_stops_cleanly() -> None:
    env = {**os.environ, "NO_AUTH": "true", "PORT": "0"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerperf.lighthouse", env=env, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    match = re.search(r"==> Lighthouse listening on port (\d+)\.", line)
    assert match, line
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{match.group(1)}/status") as resp:
        assert (await resp.json())["currenTime"] > 0
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_auth_without_a_secret_is_refused_at_start() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_AUTH", "LIGHTHOUSE_SECRET")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerperf.lighthouse", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"LIGHTHOUSE_SECRET" in err
