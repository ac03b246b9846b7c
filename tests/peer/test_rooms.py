"""Moving between rooms without waiting (`join_room_soon`, `leave_room_soon`), on a real lighthouse and aiortc."""

from __future__ import annotations

import pytest

from peerperf.errors import PeerStateError
from peerperf.peer import Peer
from peerperf.protocol.messagetypes import reliable
from tests.lighthouse.conftest import LighthouseUnderTest, StartLighthouse
from tests.peer.conftest import MakePeer, eventually, eventually_async


async def _members(lighthouse: LighthouseUnderTest, room: str) -> set[str]:
    async with lighthouse.http.get(f"{lighthouse.base}/layers/blue/rooms/{room}") as resp:
        return {user["id"] for user in await resp.json()} if resp.status == 200 else set()


async def test_a_peer_moves_rooms_at_once_the_lighthouse_follows_and_connections_stay(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    a, _ = await make_peer(lighthouse, "a", room="room-1")
    b, b_inbox = await make_peer(lighthouse, "b", room="room-1")
    await eventually(lambda: a.connected_ids() == ["b"], "a and b connect")

    b.leave_room_soon("room-1")
    b.join_room_soon("room-2")
    assert b.rooms == {"room-2"}, "the move counts at once, before the lighthouse answers"
    b.send_message("room-2", b"sent in the same tick", reliable("chat"))  # no 'room not joined'

    async def moved() -> bool:
        return await _members(lighthouse, "room-2") == {"b"} and "b" not in await _members(lighthouse, "room-1")

    await eventually_async(moved, "the lighthouse lists b in room-2 only")
    assert a.connected_ids() == ["b"], "leaving a room keeps the layer's connections"

    a.send_message("room-1", b"to room-1", reliable("chat"))
    a.join_room_soon("room-2")
    a.send_message("room-2", b"to room-2", reliable("chat"))
    await eventually(lambda: bool(b_inbox.received.get(("a", "room-2", "chat"))), "b gets a's message to room-2")
    assert ("a", "room-1", "chat") not in b_inbox.received, "nothing delivered from a room b left"


def test_joining_a_room_before_a_layer_is_refused() -> None:
    with pytest.raises(PeerStateError, match="set_layer"):
        Peer("http://127.0.0.1:9", "p1").join_room_soon("room-1")
