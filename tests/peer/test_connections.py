"""A peer's connections: the connected ids the mesh reads per packet follow opens and closes at once."""

from __future__ import annotations

import asyncio

from peerperf.protocol.messagetypes import reliable
from tests.lighthouse.conftest import StartLighthouse
from tests.peer.conftest import MakePeer, eventually


async def test_connected_ids_follow_opens_and_closes_without_a_rebuild_per_read(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    a, _ = await make_peer(lighthouse, "alice")
    b, inbox = await make_peer(lighthouse, "bob")
    await eventually(lambda: a.connected_ids() == ["bob"] and b.connected_ids() == ["alice"], "alice and bob connect")
    assert a.connections.connected_ids() is a.connections.connected_ids()  # kept, not rebuilt per packet
    a.send_message("room", b"hello", reliable("chat"))
    await eventually(lambda: bool(inbox.received), "bob receives alice's message")

    connection = a.connections.get("bob")
    assert connection is not None and connection.connected
    closing = asyncio.ensure_future(a.connections.close("bob"))
    assert a.connections.connected_ids() == ("bob",)  # the close has not started yet
    await asyncio.sleep(0)  # it starts: from here on the mesh must not pick bob
    assert a.connections.connected_ids() == () and a.connected_ids() == [] and not connection.connected
    await closing
    assert a.connections.get("bob") is not connection
