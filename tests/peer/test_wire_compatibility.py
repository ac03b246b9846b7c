"""Packets on the wire between real peers match the reference's field table both ways."""

from __future__ import annotations

import time

from peerperf.peer.connections import Connections
from peerperf.protocol.messagetypes import reliable, unreliable
from tests.lighthouse.conftest import StartLighthouse
from tests.peer import reference_wire
from tests.peer.conftest import MakePeer, eventually


async def test_sent_packets_decode_with_the_reference_field_table(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    a, _ = await make_peer(lighthouse, "alice")
    await make_peer(lighthouse, "bob")
    await eventually(lambda: a.connected_ids() == ["bob"], "alice connects to bob")
    frames: list[bytes] = []
    original_send = Connections.send

    def capture(self: Connections, peer_id: str, data: bytes) -> None:
        frames.append(data)
        original_send(self, peer_id, data)

    Connections.send = capture  # type: ignore[method-assign]
    try:
        a.send_message("room", b"\x01\x02", reliable("chat"))
        a.send_message("room", "text", unreliable("position"))
    finally:
        Connections.send = original_send  # type: ignore[method-assign]
    chat, pos = (reference_wire.decode(f) for f in frames)
    assert chat["src"] == "alice" and chat["subtype"] == "chat" and chat["sequenceId"] == 1
    assert chat["discardOlderThan"] == -1 and chat["expireTime"] == 20000 and chat["ttl"] == 10
    assert chat["hops"] == 0 and chat["optimistic"] is False and chat["receivedBy"] == ["alice"]
    assert chat["messageData"] == {"room": "room", "payload": b"\x01\x02", "encoding": 0}
    assert abs(chat["timestamp"] - time.time() * 1000) < 60_000 and chat["instanceId"] == (
        a.mesh and a.mesh.instance_id
    )
    assert pos["sequenceId"] == 2 and pos["optimistic"] is True and pos["receivedBy"] == ["alice", "bob"]
    assert pos["discardOlderThan"] == 0 and pos["expireTime"] == 2000
    assert pos["messageData"]["encoding"] == 1 and pos["messageData"]["payload"] == b"text"


async def test_packets_built_from_the_field_table_are_accepted(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    a, _ = await make_peer(lighthouse, "alice")
    _, inbox = await make_peer(lighthouse, "bob")
    await eventually(lambda: a.connected_ids() == ["bob"], "alice connects to bob")
    raw = reference_wire.encode(
        {
            "sequenceId": 7,
            "instanceId": 3735928559,
            "timestamp": int(time.time() * 1000),
            "src": "carol",
            "subtype": "chat",
            "discardOlderThan": -1,
            "optimistic": False,
            "expireTime": 20000,
            "hops": 0,
            "ttl": 10,
            "receivedBy": ["carol"],
            "messageData": {"room": "room", "payload": b'{"hi":1}', "encoding": 2},
        }
    )
    a.connections.send("bob", raw)  # over the real data channel, as an original peer would send it
    await eventually(lambda: bool(inbox.received), "bob delivers the hand-built packet")
    assert dict(inbox.received) == {("carol", "room", "chat"): [{"hi": 1}]}
