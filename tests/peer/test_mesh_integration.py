"""Six real peers over aiortc data channels on loopback, through the embedded lighthouse."""

from __future__ import annotations

import uuid

from peerperf.protocol.comms import ChatData, CommsMessage, PositionData
from peerperf.protocol.messagetypes import reliable, unreliable
from peerperf.protocol.metrics import FIELDS, validate_metrics
from tests.lighthouse.conftest import StartLighthouse
from tests.peer.conftest import MakePeer, eventually


def chat(text: str) -> bytes:
    return CommsMessage(time=1.0, chat_data=ChatData(message_id=str(uuid.uuid4()), text=text)).SerializeToString()


def position(x: float) -> bytes:
    return CommsMessage(
        time=1.0,
        position_data=PositionData(
            position_x=x, position_y=0, position_z=0, rotation_x=0, rotation_y=0, rotation_z=0, rotation_w=1
        ),
    ).SerializeToString()


async def test_six_peers_reach_target_and_everyone_hears_everyone(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    members = [await make_peer(lighthouse, f"peer{i}", position=(8.0 * i, 0.0, 0.0)) for i in range(6)]
    outsider, outsider_inbox = await make_peer(lighthouse, "outsider", room="elsewhere")
    peers = [p for p, _ in members] + [outsider]
    await eventually(lambda: all(len(p.connected_ids()) >= 4 for p in peers), "every peer has 4 connections")

    for peer, _ in members:
        peer.send_message("room", chat(f"hello from {peer.id}"), reliable("chat"))
        peer.send_message("room", position(peer.position[0]), unreliable("position"))
    everyone = {p.id for p, _ in members}
    await eventually(
        lambda: all(
            inbox.senders("chat") == everyone - {p.id} and inbox.senders("position") == everyone - {p.id}
            for p, inbox in members
        ),
        "all chats and positions arrived",
    )

    for peer, inbox in members:
        chats = [comms for (src, room, kind), got in inbox.received.items() if kind == "chat" for comms in got]
        assert len(chats) == 5, "each chat is delivered exactly once"
        counts = peer.stats.subtypes
        # Reference 2.6: every extra copy of a reliable packet is received and tagged duplicate.
        assert counts["received", "chat"] == 5 + counts["duplicate", "chat"]
        assert counts["expired", "chat"] == 0
        # Unreliable packets are never stored, so never tagged duplicate.
        assert counts["duplicate", "position"] == 0
        assert counts["sent", "chat"] >= 4  # one per connection it was sent on (the original's counting)
    assert sum(p.stats.subtypes["duplicate", "chat"] for p, _ in members) > 0  # flooding does duplicate

    # The outsider relays the room's packets but delivers none of them.
    assert outsider_inbox.received == {}
    assert outsider.stats.subtypes["received", "chat"] >= 6 and outsider.stats.subtypes["relevant", "chat"] == 0
    assert outsider.stats.subtypes["relayed", "chat"] > 0
    metrics = outsider.metrics()
    assert metrics["relevantTotal"] < metrics["receivedTotal"] and len(metrics["connectedPeers"]) >= 4


async def test_metrics_body_has_every_original_key(start_lighthouse: StartLighthouse, make_peer: MakePeer) -> None:
    lighthouse = await start_lighthouse()
    a, _ = await make_peer(lighthouse, "a", position=(1.0, 0.0, 2.0))
    await make_peer(lighthouse, "b")
    await eventually(lambda: a.connected_ids() == ["b"], "a and b connect")
    body = a.metrics()
    original = [f.name for f in FIELDS if f.original and f.name != "averageLatency"]
    assert list(body) == original
    assert body["position"] == [1.0, 0.0, 2.0] and body["knownPeersCount"] == 1
    validate_metrics(body)
