"""A peer's timers first fire at their phases (real lighthouse, real aiortc); without phases, as the original."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from peerperf.peer.timer_phases import TimerPhases
from tests.lighthouse.conftest import StartLighthouse, start_lighthouse  # noqa: F401
from tests.peer.conftest import FAST, MakePeer, eventually, eventually_async, make_peer  # noqa: F401

#: Long periods, so a first firing can only come from the phase (or, unphased, from the original's rule);
#: no stats loop, so the ping-round count is not taken away by a window.
SLOW = replace(FAST, ping_interval=0.009, ping_timeout=20.0, heartbeat_interval=20.0, stats_update_interval=0)


async def test_ping_rounds_and_heartbeats_start_at_their_phase(
    start_lighthouse: StartLighthouse,  # noqa: F811
    make_peer: MakePeer,  # noqa: F811
) -> None:
    lighthouse = await start_lighthouse()
    unphased, _ = await make_peer(lighthouse, "unphased", settings=SLOW)
    connected, connected_ms = time.monotonic(), time.time() * 1000
    phased, _ = await make_peer(lighthouse, "phased", settings=SLOW, phases=TimerPhases(ping=0.1, heartbeat=0.1))
    # The original's rule: the first round one ping interval (9 ms) after connecting.
    await eventually(lambda: unphased.measures.ping_rounds == 1, "the unphased peer's first round")
    # Phased: the first round 0.1 x (9 ms + 20 s) in, the first heartbeat 0.1 x 20 s in.
    await eventually(lambda: phased.measures.ping_rounds == 1, "the phased peer's first round")
    assert time.monotonic() - connected >= 0.1 * (SLOW.ping_timeout + 0.009)
    users: dict[str, Any] = {}

    async def heartbeat_seen() -> bool:
        async with lighthouse.http.get(f"{lighthouse.base}/layers/blue/users") as answer:
            users.update({user["id"]: user for user in await answer.json()})
        return "lastPing" in users.get("phased", {})

    await eventually_async(heartbeat_seen, "the phased peer's first heartbeat")
    assert users["phased"]["lastPing"] >= connected_ms + 0.1 * SLOW.heartbeat_interval * 1000 - 5
    assert "lastPing" not in users["unphased"]  # its first heartbeat is a whole interval (20 s) in
    assert phased.measures.ping_rounds == unphased.measures.ping_rounds == 1  # the next rounds are 20 s away
