"""Loss detected for real: one peer's network drops a known share of packets; the figures match it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from peerperf.analysis.summarise import summary
from peerperf.peer import Peer
from peerperf.protocol.messagetypes import reliable
from peerperf.protocol.packets import decode_packet
from tests.lighthouse.conftest import StartLighthouse
from tests.peer.conftest import FAST, MakePeer, eventually
from tests.peer.test_mesh_integration import chat

PEERS = 5
MESSAGES = 201  # ids 1..201: the last one reveals the gap at id 200
DROPPED_EVERY = 10  # the lossy peer never gets ids 10, 20, ..., 200 of any source: 20 of 201


async def test_dropped_frames_show_as_loss_and_delivery(start_lighthouse: StartLighthouse, make_peer: MakePeer) -> None:
    lighthouse = await start_lighthouse()
    settings = replace(FAST, stats_update_interval=0, target_connections=4, ping_interval=None)
    peers: list[Peer] = [(await make_peer(lighthouse, f"peer{i}", settings=settings))[0] for i in range(PEERS)]
    await eventually(lambda: all(len(p.connected_ids()) == PEERS - 1 for p in peers), "a full mesh")
    lossy = peers[0]

    def lose_every_tenth(from_peer: str, data: bytes) -> bool:  # every copy, over every path
        return decode_packet(data).sequenceId % DROPPED_EVERY != 0

    lossy.frame_filter = lose_every_tenth
    for peer in peers:
        peer.measures.delivery.grace = 0.0  # gaps are overdue at once: the test waits for quiescence itself
        peer.close_stats_window()  # connection set-up traffic is not part of the measurement
    for n in range(MESSAGES):
        for peer in peers:
            peer.send_message("room", chat(f"{peer.id} {n}"), reliable("chat"))
    lost = (MESSAGES // DROPPED_EVERY) * (PEERS - 1)
    should_get = MESSAGES * (PEERS - 1)
    await eventually(
        lambda: (
            all(p.measures.delivery.window.unique == should_get for p in peers[1:])
            and lossy.measures.delivery.window.unique == should_get - lost
        ),
        "every packet arrived (but the lossy peer's share)",
    )
    rows = [_row(peer) for peer in peers]
    lossy_row = rows[0]
    assert lossy_row["missing"] == lost
    assert lossy_row["deliveredBySubtype"] == {"chat": should_get - lost}
    assert all(row["missing"] == 0 for row in rows[1:])

    result = summary(pd.DataFrame(rows).assign(testId="t"), warmup_windows=0, keep_last=True)
    expected_delivery = 1 - lost / (PEERS * should_get)
    assert abs(float(result["delivery"]) - expected_delivery) < 1e-12
    assert abs(float(result["delivery.chat"]) - expected_delivery) < 1e-12
    assert abs(float(result["loss"]) - lost / (PEERS * should_get)) < 1e-12


def _row(peer: Peer) -> dict[str, Any]:
    metrics = peer.close_stats_window()
    return {**metrics, "peerId": peer.id, "timestamp": 1, "window": 1, "layer": "blue", "room": "room"}
