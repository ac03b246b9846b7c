"""Conformance: the /peerjs handshake, ids, auth and bad connection parameters (reference 1.3)."""

from __future__ import annotations

import hashlib
import hmac

from tests.lighthouse.conftest import LighthouseUnderTest, RawPeer, StartLighthouse


async def test_open_challenge_then_validation_ok(lighthouse: LighthouseUnderTest) -> None:
    peer, challenge = await lighthouse.open("alice")
    assert len(challenge) >= 16
    await peer.send({"type": "VALIDATION", "src": "alice", "payload": challenge})
    assert await peer.recv() == {"type": "VALIDATION_OK"}


async def test_no_auth_still_requires_validation_before_http_calls(lighthouse: LighthouseUnderTest) -> None:
    peer, _ = await lighthouse.open("bob")
    body = {"id": "bob"}
    async with lighthouse.http.put(f"{lighthouse.base}/layers/blue", json=body, headers=peer.headers) as resp:
        assert resp.status == 401
        assert (await resp.json())["status"] == "unauthorized"


async def test_hmac_validation(start_lighthouse: StartLighthouse) -> None:
    lh = await start_lighthouse(no_auth=False, secret="s3cret")
    good, challenge = await lh.open("good")
    signature = hmac.new(b"s3cret", challenge.encode(), hashlib.sha256).hexdigest()
    await good.send({"type": "VALIDATION", "payload": signature})
    assert await good.recv() == {"type": "VALIDATION_OK"}

    bad, challenge = await lh.open("bad")
    wrong_key = hmac.new(b"other", challenge.encode(), hashlib.sha256).hexdigest()
    await bad.send({"type": "VALIDATION", "payload": wrong_key})
    assert await bad.recv() == {"type": "VALIDATION_NOK"}
    assert await bad.closed()

    replay, _ = await lh.open("replay")  # another challenge: the good signature must not pass
    await replay.send({"type": "VALIDATION", "payload": signature})
    assert await replay.recv() == {"type": "VALIDATION_NOK"}


async def test_bad_key_gets_error_and_close(lighthouse: LighthouseUnderTest) -> None:
    ws = await lighthouse.http.ws_connect(lighthouse.ws_url(key="nope", id="x", token="t"))
    peer = RawPeer("x", "t", ws)
    assert await peer.recv() == {"type": "ERROR", "payload": {"msg": "Invalid key provided"}}
    assert await peer.closed()


async def test_missing_token_gets_error_and_close(lighthouse: LighthouseUnderTest) -> None:
    ws = await lighthouse.http.ws_connect(lighthouse.ws_url(key="peerjs", id="x"))
    peer = RawPeer("x", "", ws)
    frame = await peer.recv_type("ERROR")
    assert "token" in frame["payload"]["msg"]
    assert await peer.closed()


async def test_invalid_id_gets_error_and_close(lighthouse: LighthouseUnderTest) -> None:
    ws = await lighthouse.http.ws_connect(lighthouse.ws_url(key="peerjs", id="a%2F..%2Fb", token="t"))
    peer = RawPeer("bad", "t", ws)
    assert "Invalid id" in (await peer.recv_type("ERROR"))["payload"]["msg"]
    assert await peer.closed()


async def test_id_taken_with_another_token(lighthouse: LighthouseUnderTest) -> None:
    owner = await lighthouse.connect("carol")
    ws = await lighthouse.http.ws_connect(lighthouse.ws_url(key="peerjs", id="carol", token="other"))
    impostor = RawPeer("carol", "other", ws)
    assert await impostor.recv() == {"type": "ID-TAKEN", "payload": {"msg": "ID is taken"}}
    assert await impostor.closed()
    await owner.send({"type": "HEARTBEAT", "payload": {"optimizeNetwork": True}})
    await owner.recv_type("OPTIMAL_NETWORK_RESPONSE")  # the owner is untouched


async def test_same_id_and_token_reattaches_without_open(lighthouse: LighthouseUnderTest) -> None:
    first = await lighthouse.connect("dave")
    other = await lighthouse.connect("erin")
    await lighthouse.join(first)
    ws = await lighthouse.http.ws_connect(lighthouse.ws_url(key="peerjs", id="dave", token=first.token))
    second = RawPeer("dave", first.token, ws)
    assert await first.closed()  # the old socket is replaced, and no OPEN is sent on the new one
    await other.send({"type": "OFFER", "dst": "dave", "payload": {"n": 1}})
    assert await second.recv() == {"type": "OFFER", "src": "erin", "dst": "dave", "payload": {"n": 1}}
    async with lighthouse.http.get(f"{lighthouse.base}/layers/blue/users") as resp:
        assert [u["id"] for u in await resp.json()] == ["dave"]  # still a member: same client


async def test_server_assigned_ids(start_lighthouse: StartLighthouse) -> None:
    lh = await start_lighthouse(id_length=3)
    ids = []
    for _ in range(3):
        ws = await lh.http.ws_connect(lh.ws_url(key="peerjs", token="t"))
        peer = RawPeer("?", "t", ws)
        assigned = await peer.recv_type("ASSIGNED_ID")
        await peer.recv_type("OPEN")
        ids.append(assigned["payload"]["id"])
    assert ids == ["000", "001", "002"]
