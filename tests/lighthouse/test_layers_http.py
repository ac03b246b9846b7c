"""Conformance: layers, rooms and notifications over the HTTP API (reference 1.2, 1.4)."""

from __future__ import annotations

import asyncio

import pytest

from tests.lighthouse.conftest import LighthouseUnderTest, StartLighthouse


async def test_layer_join_notifies_existing_members_only(lighthouse: LighthouseUnderTest) -> None:
    a = await lighthouse.connect("a")
    b = await lighthouse.connect("b")
    assert [u["id"] for u in await lighthouse.join(a)] == ["a"]
    users = await lighthouse.join(b)
    assert users == [
        {"id": "a", "userId": "a", "peerId": "a", "protocolVersion": 4},
        {"id": "b", "userId": "b", "peerId": "b", "protocolVersion": 4},
    ]
    assert await a.recv() == {
        "type": "PEER_JOINED_LAYER",
        "src": "__lighthouse_notification__",
        "dst": "a",
        "payload": {"userId": "b", "peerId": "b", "id": "b", "layerId": "blue"},
    }
    async with lighthouse.http.get(f"{lighthouse.base}/layers/blue") as resp:
        assert await resp.json() == {"name": "blue", "usersCount": 2, "maxUsers": 50}


async def test_rooms_join_list_and_leave(lighthouse: LighthouseUnderTest) -> None:
    a, b = await lighthouse.connect("a"), await lighthouse.connect("b")
    await lighthouse.join(a, room="room")
    await lighthouse.join(b, room="room")
    assert (await a.recv_type("PEER_JOINED_LAYER"))["payload"]["id"] == "b"
    joined = await a.recv_type("PEER_JOINED_ROOM")
    assert joined["dst"] == "a" and joined["payload"] == {
        "userId": "b",
        "peerId": "b",
        "id": "b",
        "layerId": "blue",
        "roomId": "room",
    }
    base = lighthouse.base
    async with lighthouse.http.get(f"{base}/layers/blue/rooms") as resp:
        assert await resp.json() == ["room"]
    async with lighthouse.http.get(f"{base}/layers/blue/rooms?userId=zed") as resp:
        assert await resp.json() == []
    async with lighthouse.http.get(f"{base}/layers/blue/rooms/room") as resp:
        assert [u["id"] for u in await resp.json()] == ["a", "b"]
    async with lighthouse.http.delete(f"{base}/layers/blue/rooms/room/users/b", headers=b.headers) as resp:
        assert [u["id"] for u in await resp.json()] == ["a"]
    assert (await a.recv_type("PEER_LEFT_ROOM"))["payload"]["id"] == "b"
    async with lighthouse.http.delete(f"{base}/layers/blue/users/b", headers=b.headers) as resp:
        assert [u["id"] for u in await resp.json()] == ["a"]
    assert (await a.recv_type("PEER_LEFT_LAYER"))["payload"] == {
        "userId": "b",
        "peerId": "b",
        "id": "b",
        "layerId": "blue",
    }


async def test_room_join_requires_layer_membership(lighthouse: LighthouseUnderTest) -> None:
    a = await lighthouse.connect("a")
    async with lighthouse.http.put(
        f"{lighthouse.base}/layers/blue/rooms/r", json={"id": "a"}, headers=a.headers
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["status"] == "user_not_in_layer"


@pytest.mark.parametrize(
    "path,code",
    [
        ("/layers/nope", "layer-not-found"),
        ("/layers/nope/users", "layer-not-found"),
        ("/layers/nope/rooms", "layer-not-found"),
        ("/layers/blue/rooms/nope", "room-not-found"),
        ("/layers/nope/topology", "layer-not-found"),
        ("/no/such/route", "not-found"),
    ],
)
async def test_unknown_things_are_json_404s(lighthouse: LighthouseUnderTest, path: str, code: str) -> None:
    async with lighthouse.http.get(lighthouse.base + path) as resp:
        assert resp.status == 404
        assert resp.content_type == "application/json"
        assert (await resp.json())["status"] == code


async def test_layer_full(start_lighthouse: StartLighthouse) -> None:
    lh = await start_lighthouse(max_per_layer=2)
    peers = [await lh.connect(f"p{i}") for i in range(3)]
    await lh.join(peers[0])
    await lh.join(peers[1])
    async with lh.http.put(f"{lh.base}/layers/blue", json={"id": "p2"}, headers=peers[2].headers) as resp:
        assert resp.status == 400
        assert resp.content_type == "application/json"
        assert await resp.json() == {
            "status": "layer_is_full",
            "message": "User 'p2' cannot join layer 'blue' because it is full (max: 2)",
        }


async def test_concurrent_joins_never_overshoot_capacity(start_lighthouse: StartLighthouse) -> None:
    lh = await start_lighthouse(max_per_layer=3)
    peers = [await lh.connect(f"p{i}") for i in range(8)]

    async def put(peer_id: str, token: str) -> int:
        async with lh.http.put(
            f"{lh.base}/layers/green", json={"id": peer_id}, headers={"X-Peer-Token": token}
        ) as resp:
            return resp.status

    statuses = await asyncio.gather(*(put(p.id, p.token) for p in peers))
    assert sorted(statuses) == [200] * 3 + [400] * 5
    async with lh.http.get(f"{lh.base}/layers/green") as resp:
        assert (await resp.json())["usersCount"] == 3


async def test_bad_token_and_acting_on_another_peer(lighthouse: LighthouseUnderTest) -> None:
    me = await lighthouse.connect("me")
    victim = await lighthouse.connect("victim")
    await lighthouse.join(victim)
    base = lighthouse.base
    async with lighthouse.http.put(f"{base}/layers/blue", json={"id": "me"}, headers={"X-Peer-Token": "wrong"}) as resp:
        assert resp.status == 401
    # The original checked body.userId's token but moved body.id: this must now be refused.
    async with lighthouse.http.put(
        f"{base}/layers/red", json={"userId": "me", "id": "victim"}, headers=me.headers
    ) as resp:
        assert resp.status == 401
    async with lighthouse.http.delete(f"{base}/layers/blue/users/victim", headers=me.headers) as resp:
        assert resp.status == 401
    async with lighthouse.http.put(f"{base}/layers/blue", headers=me.headers) as resp:
        assert resp.status == 400  # no body
    async with lighthouse.http.put(f"{base}/layers/blue", json={"x": 1}, headers=me.headers) as resp:
        assert (await resp.json())["message"].startswith("Missing required parameters")
    async with lighthouse.http.get(f"{base}/layers/blue/users") as resp:
        assert [u["id"] for u in await resp.json()] == ["victim"]


async def test_cors_preflight_on_every_route(lighthouse: LighthouseUnderTest) -> None:
    paths = [
        "/status",
        "/layers",
        "/layers/blue",
        "/layers/blue/users",
        "/layers/blue/rooms",
        "/layers/blue/rooms/r",
        "/layers/blue/rooms/r/users/u",
        "/layers/blue/users/u",
        "/layers/blue/topology",
    ]
    for path in paths:
        for method in ("GET", "PUT", "DELETE"):
            headers = {
                "Origin": "http://elsewhere.test",
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type,x-peer-token",
            }
            async with lighthouse.http.options(lighthouse.base + path, headers=headers) as resp:
                assert resp.status == 204, path
                assert resp.headers["Access-Control-Allow-Origin"] == "*"
                assert method in resp.headers["Access-Control-Allow-Methods"]
                allowed = resp.headers["Access-Control-Allow-Headers"].lower()
                assert "content-type" in allowed and "x-peer-token" in allowed
    async with lighthouse.http.get(lighthouse.base + "/layers/nope") as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "*"  # errors too


async def test_status_and_layers_listing(lighthouse: LighthouseUnderTest) -> None:
    a = await lighthouse.connect("a")
    await lighthouse.join(a, layer="brandnew")
    await a.send(
        {
            "type": "HEARTBEAT",
            "payload": {"connectedPeerIds": [], "position": [40.0, 0.0, -3.0], "optimizeNetwork": True},
        }
    )
    await a.recv_type("OPTIMAL_NETWORK_RESPONSE")  # the heartbeat has been processed
    async with lighthouse.http.get(f"{lighthouse.base}/status?includeLayers=true") as resp:
        status = await resp.json()
    assert {"name", "version", "currenTime", "env", "ready"} <= status.keys()
    assert isinstance(status["currenTime"], int)
    names = [layer["name"] for layer in status["layers"]]
    assert "blue" in names and "brandnew" in names and len(names) == 40
    async with lighthouse.http.get(f"{lighthouse.base}/layers?usersParcels=true") as resp:
        layers = {layer["name"]: layer for layer in await resp.json()}
    assert layers["brandnew"]["usersParcels"] == [[2, -1]]
    async with lighthouse.http.delete(f"{lighthouse.base}/layers/brandnew/users/a", headers=a.headers):
        pass
    async with lighthouse.http.get(f"{lighthouse.base}/layers/brandnew") as resp:
        assert resp.status == 404  # empty non-default layers disappear
