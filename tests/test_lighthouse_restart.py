"""The lighthouse killed and restarted mid-run (`--lighthouse-url`): peers reconnect, rejoin, the run completes.

Real stack: the lighthouse in its own process (SIGKILLed, then started again on the same port),
local Ray, aiortc on loopback. The outage shows in the datapoints (`reconnections`).
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import aiohttp
import pandas as pd

from tests.runcli import Run, results_document
from tests.serviceprocess import start_service_process

DEADLINE = 30.0
#: How long the lighthouse stays dead (the outage itself, not a wait for something).
OUTAGE = 4.0
BACKOFF = 0.5
ATTEMPTS = 20
PEERS = 4


async def start_lighthouse(port: int = 0) -> tuple[asyncio.subprocess.Process, int]:
    env = {"NO_AUTH": "true", "LIGHTHOUSE_HOST": "127.0.0.1", "LIGHTHOUSE_PORT": str(port)}
    return await start_service_process("peerperf.lighthouse", env)


async def users_in_layers(base: str) -> set[str]:
    """Every peer id the lighthouse has in any layer now."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/layers") as resp:
            layers = await resp.json()
        users: set[str] = set()
        for layer in layers:
            async with http.get(f"{base}/layers/{layer['name']}/users") as resp:
                users.update(user["userId"] for user in await resp.json())
        return users


async def datapoints_shown(run: Run, at_least: int) -> None:
    while True:
        line = await run.until("datapoints")
        if (match := re.search(r"datapoints (\d+)", line)) and int(match.group(1)) >= at_least:
            return


async def test_peers_rejoin_a_restarted_lighthouse_and_the_run_completes(tmp_path: Path) -> None:
    proc, port = await start_lighthouse()
    base = f"http://127.0.0.1:{port}"
    run = await Run.start(
        *("--peers", str(PEERS), "--peers-per-actor", "2", "--duration", "25", "--stats-interval", "1000"),
        *("--lighthouse-url", base, "--output", str(tmp_path), "--seed", "11", "--ping-interval", "off"),
        *("--backoff", str(BACKOFF), "--reconnection-attempts", str(ATTEMPTS)),
    )
    try:
        await datapoints_shown(run, 6 * PEERS)  # past every peer's random start offset (up to 3 s)
        joined = await users_in_layers(base)
        assert len(joined) == PEERS
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await asyncio.sleep(OUTAGE)  # the outage
        proc, _ = await start_lighthouse(port)
        back = time.monotonic()
        while (
            rejoined := await users_in_layers(base)
        ) != joined:  # a new lighthouse: it knows nobody until they rejoin
            assert time.monotonic() - back < ATTEMPTS * 2 * BACKOFF, f"only {rejoined} of {joined} rejoined"
            await asyncio.sleep(0.1)
        rejoin_seconds = time.monotonic() - back
        assert await run.finish() == 0, run.output
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
    assert rejoin_seconds <= 2 * 2 * BACKOFF + 5.0  # the first or second attempt after the return (busy-box slack)
    document = results_document(tmp_path)
    frame = pd.DataFrame([{"peerId": p["peerId"], **p["metrics"]} for p in document["dataPoints"]])
    assert set(frame["peerId"]) == joined
    for peer_id, rows in frame.groupby("peerId"):
        assert rows["reconnections"].sum() >= 1, f"{peer_id}: the outage is not in its datapoints"
        # Peer-to-peer links do not need the lighthouse: traffic flowed in every full window after the
        # start offsets (the first 4), the outage's included.
        assert (rows.sort_values("window")["relevantPerSecond"].iloc[4:-1] > 0).all(), peer_id
