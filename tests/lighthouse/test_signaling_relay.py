"""Conformance: relaying, queueing, heartbeats, hints and bad frames on /peerjs (reference 1.3, 1.5)."""

from __future__ import annotations

from typing import Any

from tests.lighthouse.conftest import LighthouseUnderTest, RawPeer, StartLighthouse


async def marker(sender: RawPeer, receiver: RawPeer) -> None:
    """Relay a marker frame and read it: everything sent to `receiver` before it has arrived."""
    await sender.send({"type": "CANDIDATE", "dst": receiver.id, "payload": {"marker": True}})
    assert (await receiver.recv())["payload"] == {"marker": True}


async def test_relay_overwrites_src(lighthouse: LighthouseUnderTest) -> None:
    a, b = await lighthouse.connect("a"), await lighthouse.connect("b")
    offer = {"sdp": {"type": "offer", "sdp": "v=0..."}, "sessionId": "s1", "protocolVersion": 4}
    for frame_type in ("OFFER", "ANSWER", "CANDIDATE", "REJECT"):
        await a.send({"type": frame_type, "src": "forged", "dst": "b", "payload": offer})
        assert await b.recv() == {"type": frame_type, "src": "a", "dst": "b", "payload": offer}


async def test_unvalidated_sockets_cannot_relay(lighthouse: LighthouseUnderTest) -> None:
    a, _ = await lighthouse.open("a")
    b = await lighthouse.connect("b")
    c = await lighthouse.connect("c")
    await a.send({"type": "OFFER", "dst": "b", "payload": {}})
    assert "VALIDATION" in (await a.recv_type("ERROR"))["payload"]["msg"]
    await marker(c, b)  # b got nothing before the marker


async def test_queued_until_dst_connects(lighthouse: LighthouseUnderTest) -> None:
    a = await lighthouse.connect("a")
    await a.send({"type": "OFFER", "dst": "late", "payload": {"n": 1}})
    await a.send({"type": "CANDIDATE", "dst": "late", "payload": {"n": 2}})
    await a.send({"type": "LEAVE", "dst": "late"})  # LEAVE to an offline peer is dropped
    late, _ = await lighthouse.open("late")
    assert await late.recv() == {"type": "OFFER", "src": "a", "dst": "late", "payload": {"n": 1}}
    assert await late.recv() == {"type": "CANDIDATE", "src": "a", "dst": "late", "payload": {"n": 2}}


async def test_undelivered_queue_expires_to_each_source(start_lighthouse: StartLighthouse) -> None:
    lh = await start_lighthouse(queue_expire_timeout=0.2, queue_check_interval=0.05)
    a, b = await lh.connect("a"), await lh.connect("b")
    await a.send({"type": "OFFER", "dst": "ghost", "payload": {}})
    await a.send({"type": "CANDIDATE", "dst": "ghost", "payload": {}})
    await b.send({"type": "OFFER", "dst": "ghost", "payload": {}})
    assert await a.recv() == {"type": "EXPIRE", "src": "ghost", "dst": "a"}
    assert await b.recv() == {"type": "EXPIRE", "src": "ghost", "dst": "b"}
    await marker(b, a)  # exactly one EXPIRE per source


async def test_heartbeat_timeout_drops_the_peer_and_notifies(start_lighthouse: StartLighthouse) -> None:
    lh = await start_lighthouse(alive_timeout=0.5, liveness_check_interval=0.05)
    quiet = await lh.connect("quiet")
    alive = await lh.connect("alive")
    await lh.join(quiet, room="room")
    await lh.join(alive, room="room")
    # `alive` keeps beating until the timeout has dropped `quiet`.
    beat = {"type": "HEARTBEAT", "payload": {"connectedPeerIds": []}}
    await alive.send(beat)
    frames: list[dict[str, Any]] = []
    while not any(f["type"] == "PEER_LEFT_LAYER" for f in frames):
        frames.append(await alive.recv())
        await alive.send(beat)
    types = [f["type"] for f in frames if f["type"].startswith("PEER_LEFT")]
    assert types == ["PEER_LEFT_ROOM", "PEER_LEFT_LAYER"]
    assert all(f["payload"]["id"] == "quiet" and f["dst"] == "alive" for f in frames if f["type"] in types)
    assert await quiet.closed()
    async with lh.http.get(f"{lh.base}/layers/blue/topology") as resp:
        assert "quiet" not in [p["id"] for p in await resp.json()]  # pruned (alive may time out later)


async def test_socket_close_notifies_layer_and_room(lighthouse: LighthouseUnderTest) -> None:
    a, b = await lighthouse.connect("a"), await lighthouse.connect("b")
    await lighthouse.join(a, room="room")
    await lighthouse.join(b, room="room")
    await a.recv_type("PEER_JOINED_LAYER")
    await a.recv_type("PEER_JOINED_ROOM")
    await b.ws.close()
    left_room = await a.recv_type("PEER_LEFT_ROOM")
    left_layer = await a.recv_type("PEER_LEFT_LAYER")
    assert left_room["payload"]["roomId"] == "room" and left_layer["payload"]["id"] == "b"
    async with lighthouse.http.get(f"{lighthouse.base}/layers/blue/users") as resp:
        assert [u["id"] for u in await resp.json()] == ["a"]  # departed peers are pruned
    b_again = await lighthouse.connect("b")  # and the id is free again
    assert b_again.id == "b"


async def test_optimal_network_hints_filter_by_world_distance(lighthouse: LighthouseUnderTest) -> None:
    me = await lighthouse.connect("me")
    positions = {"near": [10.0, 0.0, 0.0], "mid": [50.0, 0.0, 0.0], "far": [500.0, 0.0, 0.0]}
    others = {name: await lighthouse.connect(name) for name in positions}
    await lighthouse.join(me)
    for name, peer in others.items():
        await lighthouse.join(peer)
        await peer.send(
            {
                "type": "HEARTBEAT",
                "payload": {
                    "connectedPeerIds": [],
                    "position": positions[name],
                    "optimizeNetwork": True,
                    "maxDistance": 1,
                },
            }
        )
        await peer.recv_type("OPTIMAL_NETWORK_RESPONSE")
    await me.send(
        {
            "type": "HEARTBEAT",
            "payload": {
                "connectedPeerIds": ["near"],
                "position": [0.0, 0.0, 0.0],
                "optimizeNetwork": True,
                "targetConnections": 4,
                "maxDistance": 80,
            },
        }
    )
    frame: dict[str, Any] = {"type": ""}
    while frame["type"] != "OPTIMAL_NETWORK_RESPONSE":
        frame = await me.recv()
    assert frame["src"] == "__lighthouse_response__" and frame["dst"] == "me"
    assert frame["payload"] == {
        "layerId": "blue",
        "optimalConnections": [
            {"id": "near", "distance": 0, "position": [10.0, 0.0, 0.0]},
            {"id": "mid", "distance": 1, "position": [50.0, 0.0, 0.0]},
        ],
    }


async def test_hint_request_without_layer_has_no_payload(lighthouse: LighthouseUnderTest) -> None:
    loner = await lighthouse.connect("loner")
    await loner.send({"type": "HEARTBEAT", "payload": {"connectedPeerIds": [], "optimizeNetwork": True}})
    assert await loner.recv() == {"type": "OPTIMAL_NETWORK_RESPONSE", "src": "__lighthouse_response__", "dst": "loner"}


async def test_malformed_and_unknown_frames_get_errors_and_the_server_keeps_serving(
    lighthouse: LighthouseUnderTest,
) -> None:
    a, b = await lighthouse.connect("a"), await lighthouse.connect("b")
    bad_frames = [
        "not json",
        "[1,2]",
        '{"no":"type"}',
        '{"type":"TELEPORT"}',
        '{"type":"OPEN"}',
        '{"type":"OFFER","payload":{}}',
        '{"type":"OFFER","dst":7}',
        '{"type":"HEARTBEAT","payload":{"connectedPeerIds":"x"}}',
        '{"type":"HEARTBEAT","payload":{"position":[1]}}',
    ]
    for text in bad_frames:
        await a.ws.send_str(text)
        error = await a.recv_type("ERROR")
        assert error["payload"]["msg"], text
    await a.ws.send_bytes(b"\x00\x01")
    assert "binary" in (await a.recv_type("ERROR"))["payload"]["msg"]
    await marker(a, b)  # the socket is still open and relaying
    async with lighthouse.http.get(f"{lighthouse.base}/status") as resp:
        assert resp.status == 200
