"""After peers dispose (and the lighthouse stops), nothing of theirs remains: tasks, sockets, transports."""

from __future__ import annotations

import asyncio
import gc
import os

import pytest

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import Peer
from peerperf.peer.impairment_profile import PeerImpairment, parse_profile
from peerperf.protocol.messagetypes import reliable
from peerperf.settings import resolve
from tests.peer.conftest import FAST, eventually


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


#: Delayed datagrams and signaling frames still in flight at dispose must not outlive the peer.
IMPAIRED = PeerImpairment(parse_profile("delay=20ms,jitter=5ms,loss=1%,dir=both"), "leaks", signaling=True)


@pytest.mark.parametrize("impaired", [False, True])
async def test_dispose_leaves_no_tasks_fds_or_connections(impaired: bool) -> None:
    fds_before = open_fds()
    tasks_before = asyncio.all_tasks()
    settings = resolve(LighthouseSettings, environ={}, no_auth=True, host="127.0.0.1", port=0)
    async with serving(create_app(settings), "127.0.0.1", 0) as port:
        peers = [
            Peer(
                f"http://127.0.0.1:{port}", f"p{i}", settings=FAST, impairment=IMPAIRED if impaired and i < 2 else None
            )
            for i in range(4)
        ]
        for peer in peers:
            await peer.connect()
            await peer.set_layer("blue")
            await peer.join_room("room")
        await eventually(lambda: all(len(p.connected_ids()) == 3 for p in peers), "a full mesh of four")
        peers[0].send_message("room", b"x", reliable("chat"))
        connections = [c for p in peers for c in p.connections]
        assert len(open_fds()) > len(fds_before)  # the test can see what it would leak
        for peer in peers:
            await peer.dispose()
        assert all(len(p.connections) == 0 for p in peers)
        assert all(
            c.pc.connectionState == "closed" and c.pc.sctp is not None and c.pc.sctp.transport.state == "closed"
            for c in connections
        )
    gc.collect()
    await eventually(lambda: asyncio.all_tasks() - tasks_before == set(), "every task of the peers has ended")
    await eventually(lambda: open_fds() <= fds_before, "every socket and file of the peers is closed")
