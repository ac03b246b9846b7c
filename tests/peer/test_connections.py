"""A peer's connections: the connected ids the mesh reads per packet follow opens and closes at once."""

from __future__ import annotations

import asyncio
import time

from peerperf.protocol.messagetypes import reliable
from peerperf.protocol.metrics import SILENT_LINK_S
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


async def test_a_link_open_while_nothing_arrives_over_it_is_named_silent(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    """The instrument for a stalled direction: sequence gaps never show a source whose packets all stop."""
    lighthouse = await start_lighthouse()
    a, _ = await make_peer(lighthouse, "alice")
    b, _ = await make_peer(lighthouse, "bob")
    await eventually(lambda: a.connected_ids() == ["bob"] and b.connected_ids() == ["alice"], "alice and bob connect")
    link, back = a.connections.get("bob"), b.connections.get("alice")
    assert link is not None and back is not None
    b.send_message("room", b"hello", reliable("chat"))
    await eventually(lambda: link.frames > 0, "a frame from bob arrives at alice")
    start = time.monotonic()
    assert a.connections.silent_links(start) == []
    back.send = lambda data: True  # type: ignore[method-assign]  # bob stops sending; the link stays open
    assert a.connections.silent_links(start + SILENT_LINK_S - 0.1) == []
    assert a.connections.silent_links(start + SILENT_LINK_S) == ["bob"] and link.connected
    assert "silentLinks" in a.close_stats_window(), "each datapoint carries the check"
    del back.send  # bob sends again: the link is not silent any more
    b.send_message("room", b"again", reliable("chat"))
    frames = link.frames
    await eventually(lambda: link.frames > frames, "bob's frames arrive again")
    assert a.connections.silent_links(start + 2 * SILENT_LINK_S) == []
