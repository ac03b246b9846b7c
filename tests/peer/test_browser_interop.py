"""Headless Chromium and a peerperf connection on the tuned SCTP transport exchange thousands of
messages both ways, cleanly and with packets dropped below SCTP (tests/peer/browser_session.py).

Chromium binds every interface it finds for ICE and mDNS, so the session runs in a fresh network
namespace that has only loopback: whatever Chromium tries, nothing can leave 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.conftest import REPO_ROOT

MESSAGES = 3000
pytestmark = [pytest.mark.browser, pytest.mark.root]  # Chromium in a network namespace of its own


async def run_isolated(loss: float) -> dict[str, object]:
    """Run one browser session in a loopback-only network namespace; its JSON report."""
    inner = (
        f"ip link set lo up && exec {sys.executable} -m tests.peer.browser_session --loss {loss} --messages {MESSAGES}"
    )
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "--net",
        "sh",
        "-c",
        inner,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 240)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"the browser session failed: {stderr.decode()[-3000:]}"
    report: dict[str, object] = json.loads(stdout.decode().strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("loss", [0.0, 0.03], ids=["clean", "lossy"])
async def test_chromium_and_a_tuned_peer_exchange_thousands_of_messages_both_ways(loss: float) -> None:
    report = await run_isolated(loss)
    assert report["browser"] == {"received": MESSAGES, "errors": []}, report
    assert report["peer_received"] == MESSAGES and report["peer_in_order"] is True, report
    fast = report["fast_datagrams"]
    assert isinstance(fast, int) and fast > 100, f"the peer's fast receive path carried {fast} datagrams"
    compiled = report["compiled_packets"]  # the session asks for the compiled path (built in CI)
    assert isinstance(compiled, int) and compiled > 0, f"the peer's compiled path took {compiled} SCTP packets"
    if loss:
        assert isinstance(report["dropped"], int) and report["dropped"] > 0, "the impairment dropped nothing"
