"""Peers under failure: a lighthouse that drops, peers that leave, connections that never open, bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from peerperf.errors import LighthouseUnavailable
from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.peer import Peer
from peerperf.protocol.messagetypes import reliable
from peerperf.settings import resolve
from tests.lighthouse.conftest import LighthouseUnderTest, StartLighthouse
from tests.peer.conftest import FAST, MakePeer, eventually, eventually_async


async def test_peer_reconnects_and_rejoins_when_the_lighthouse_returns(make_peer: MakePeer) -> None:
    settings = resolve(LighthouseSettings, environ={}, no_auth=True, host="127.0.0.1", port=0)
    first = serving(create_app(settings), "127.0.0.1", 0)
    port = await first.__aenter__()
    async with aiohttp.ClientSession() as http:
        lighthouse = LighthouseUnderTest(f"http://127.0.0.1:{port}", http)
        a, _ = await make_peer(lighthouse, "alice")
        b, _ = await make_peer(lighthouse, "bob")
        await eventually(lambda: a.connected_ids() == ["bob"], "alice connects to bob")
        await first.__aexit__(None, None, None)  # the lighthouse goes away...
        await eventually(lambda: not a.client.connected.is_set(), "alice notices the lighthouse is gone")
        async with serving(create_app(settings), "127.0.0.1", port):  # ...and comes back, empty
            await eventually(lambda: a.client.reconnections == 1 and b.client.reconnections == 1, "both reconnect")

            async def both_back_in_the_room() -> bool:
                async with http.get(f"{lighthouse.base}/layers/blue/rooms/room") as resp:
                    return resp.status == 200 and sorted(u["id"] for u in await resp.json()) == ["alice", "bob"]

            await eventually_async(both_back_in_the_room, "alice and bob re-join layer blue, room room")
            assert a.connected_ids() == ["bob"]  # data channels survived the lighthouse outage


async def test_a_leaving_peer_is_announced_and_neighbours_return_to_target(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    watcher = await lighthouse.connect("watcher")
    await lighthouse.join(watcher, room="room")
    peers = [(await make_peer(lighthouse, f"p{i}"))[0] for i in range(6)]
    await eventually(lambda: all(len(p.connected_ids()) >= 4 for p in peers), "six peers at target")
    leaving, staying = peers[0], peers[1:]
    await leaving.dispose()
    frames: list[dict[str, Any]] = []
    while not any(f["type"] == "PEER_LEFT_LAYER" and f["payload"]["id"] == "p0" for f in frames):
        frames.append(await watcher.recv())
    assert any(f["type"] == "PEER_LEFT_ROOM" and f["payload"]["id"] == "p0" for f in frames)
    # The staying peers got the same notification; each forgets p0 once it has read it.
    await eventually(lambda: all("p0" not in p.known for p in staying), "every staying peer forgets p0")
    await eventually(
        lambda: all(sorted(p.connected_ids()) == sorted({q.id for q in staying} - {p.id}) for p in staying),
        "the five others are each connected to the other four",
    )


async def test_a_connection_that_never_opens_is_cleaned_up(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    ghost = await lighthouse.connect("ghost")  # in the layer, never answers offers
    await lighthouse.join(ghost, room="room")
    a, _ = await make_peer(lighthouse, "alice")
    offer = await ghost.recv_until("OFFER")  # alice offers to the ghost...
    assert offer["src"] == "alice" and offer["payload"]["protocolVersion"] == 4
    assert offer["payload"]["sdp"]["type"] == "offer" and "a=candidate" in offer["payload"]["sdp"]["sdp"]
    assert "127.0.0.1" in offer["payload"]["sdp"]["sdp"]
    await eventually(
        lambda: "ghost" not in a.connections,
        "the unopened connection is destroyed",
        timeout=FAST.peer_connect_timeout + 5,
    )


async def test_offers_with_a_wrong_version_or_layer_are_rejected(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    raw = await lighthouse.connect("raw")
    await lighthouse.join(raw, room="room")
    await make_peer(lighthouse, "zoe", settings=replace(FAST, target_connections=1, network_update_interval=0))
    first = await raw.recv_until("OFFER")  # zoe's own offer, never answered; zoe > raw, so
    # the cross-offer rule (lower id stays initiator) lets raw's offers through to the checks
    base = {
        "sdp": {"type": "offer", "sdp": "v=0"},
        "sessionId": "s1",
        "connectionId": "c",
        "lighthouseUrl": lighthouse.base,
        "layer": "blue",
        "protocolVersion": 4,
    }
    cases = [
        ({**base, "protocolVersion": 3}, "INCOMPATIBLE_PROTOCOL_VERSION"),
        ({**base, "layer": "red"}, "MUST_BE_IN_SAME_DOMAIN_AND_LAYER"),
        ({**base, "lighthouseUrl": "http://elsewhere"}, "MUST_BE_IN_SAME_DOMAIN_AND_LAYER"),
    ]
    for payload, reason in cases:
        await raw.send({"type": "OFFER", "dst": "zoe", "payload": payload})
        reject = await raw.recv_until("REJECT")
        assert reject["src"] == "zoe" and reject["payload"]["reason"] == reason
        assert reject["payload"]["sessionId"] == "s1"
    assert first["payload"]["sessionId"] != "s1"


async def test_bad_signaling_and_data_frames_are_counted_not_fatal(
    start_lighthouse: StartLighthouse, make_peer: MakePeer
) -> None:
    lighthouse = await start_lighthouse()
    raw = await lighthouse.connect("raw")
    a, inbox_a = await make_peer(lighthouse, "alice")
    b, _ = await make_peer(lighthouse, "bob")
    await eventually(lambda: a.connected_ids() == ["bob"], "alice connects to bob")
    for payload in ({"sdp": 5}, "junk", None):
        await raw.send({"type": "ANSWER", "dst": "alice", "payload": payload})
    await raw.send({"type": "CANDIDATE", "dst": "alice", "payload": {"nope": 1}})
    await eventually(lambda: a.bad_signaling == 4, "alice counts four bad signaling frames")
    for junk in (b"\xff\xfe\xfd", b"", json.dumps({"not": "protobuf"}).encode()):
        b.connections.send("alice", junk)
    await eventually(lambda: a.mesh is not None and a.mesh.bad_frames == 3, "alice counts three bad frames")
    b.send_message("room", b"still fine", reliable("chat"))
    await eventually(lambda: bool(inbox_a.received), "alice still receives good packets")


async def test_refused_peer_ids_and_unreachable_lighthouses_are_clear_errors(start_lighthouse: StartLighthouse) -> None:
    with pytest.raises(ValueError, match="invalid peer id"):
        Peer("http://127.0.0.1:9", "bad id!")
    lighthouse = await start_lighthouse()
    taken = await lighthouse.connect("taken")
    assert taken.id == "taken"
    twin = Peer(lighthouse.base, "taken", settings=FAST)
    with pytest.raises(LighthouseUnavailable, match="ID-TAKEN"):
        await twin.connect()
    await twin.dispose()
    nowhere = Peer("http://127.0.0.1:9", "lost", settings=FAST)
    with pytest.raises(LighthouseUnavailable, match="cannot reach"):
        await nowhere.connect()
    await nowhere.dispose()
