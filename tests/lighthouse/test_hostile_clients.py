"""Hostile `/peerjs` clients over real sockets: floods, spoofing, someone else's id, oversized frames and
bodies, many sockets, a client that never reads. Each gets a clear error or is dropped; the lighthouse
stays up, its memory per connection stays bounded, and other peers notice nothing."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from typing import Any

import aiohttp
import pytest

from peerperf.lighthouse import connected_client
from tests.lighthouse.conftest import RawPeer, Served, ServeLighthouse
from tests.lighthouse.test_signaling_relay import marker
from tests.peer.conftest import eventually


async def drain(peer: RawPeer, into: list[dict[str, Any]]) -> None:
    """Read `peer`'s frames until its socket closes (a flooder that reads its answers)."""
    async for message in peer.ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            into.append(message.json())


async def test_a_flood_of_bad_and_spoofed_frames_harms_nobody(served: Served) -> None:
    attacker_peer, a_peer, b_peer = [await served.http.connect(name) for name in ("mallory", "a", "b")]
    answers: list[dict[str, Any]] = []
    reader = asyncio.create_task(drain(attacker_peer, answers))
    await served.http.join(a_peer)
    bad = ["not json", "[]", '{"type":"TELEPORT"}', '{"type":"OPEN"}', '{"type":"OFFER"}', "{" * 5000]
    for n in range(3000):
        await attacker_peer.ws.send_str(bad[n % len(bad)])
        # someone else's src, and signaling for made-up offline peers: the queue must stay bounded
        await attacker_peer.send({"type": "CANDIDATE", "src": "a", "dst": f"ghost-{n}", "payload": {"n": n}})
    await attacker_peer.send({"type": "OFFER", "src": "a", "dst": "b", "payload": {"spoofed": True}})
    spoofed = await b_peer.recv_until("OFFER")
    assert spoofed["src"] == "mallory"  # the lighthouse names the real sender
    await marker(a_peer, b_peer)  # the others relay as before
    await eventually(lambda: len(answers) >= 3000, "every bad frame is answered")
    assert all(f["type"] == "ERROR" and f["payload"]["msg"] for f in answers)
    assert served.lighthouse.queue.queued() <= 10 * served.lighthouse.settings.queue_limit
    assert any("queued" in f["payload"]["msg"] for f in answers)  # the over-limit ones are refused, clearly
    assert await served.harness_errors() == 0 and "mallory" in served.lighthouse.clients
    reader.cancel()


async def test_someone_elses_id_gets_nothing(served: Served) -> None:
    alice = await served.http.connect("alice")
    await served.http.join(alice, room="r")
    mallory = await served.http.connect("mallory")
    body = {"id": "alice", "peerId": "alice"}
    async with served.http.http.put(
        f"{served.http.base}/layers/blue/rooms/r", json=body, headers=mallory.headers
    ) as resp:
        assert resp.status == 401 and (await resp.json())["status"] == "unauthorized"
    async with served.http.http.delete(f"{served.http.base}/layers/blue/users/alice", headers=mallory.headers) as resp:
        assert resp.status == 401
    ws = await served.http.http.ws_connect(served.http.ws_url(key="peerjs", id="alice", token="guess"))
    assert (await RawPeer("alice", "guess", ws).recv())["type"] == "ID-TAKEN"
    async with served.http.http.get(f"{served.http.base}/layers/blue/rooms/r") as resp:
        assert [u["id"] for u in await resp.json()] == ["alice"]
    await marker(mallory, alice)  # alice's socket is the one the lighthouse still talks to


async def test_oversized_frames_and_bodies_are_refused(served: Served) -> None:
    big_peer, a, b = [await served.http.connect(name) for name in ("big", "a", "b")]
    await big_peer.ws.send_str('{"type":"CANDIDATE","dst":"a","payload":"' + "x" * (2 << 20) + '"}')
    closing = await big_peer.ws.receive(timeout=10)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert big_peer.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    async with served.http.http.put(
        f"{served.http.base}/layers/blue", data=b'{"id":"' + b"x" * (2 << 20) + b'"}'
    ) as resp:
        assert resp.status == 413 and (await resp.json())["status"] == "body-too-large"
    await marker(a, b)
    await eventually(lambda: "big" not in served.lighthouse.clients, "the oversized sender is dropped")


async def test_sockets_beyond_the_limit_are_refused_and_the_rest_served(serve_lighthouse: ServeLighthouse) -> None:
    served = await serve_lighthouse(concurrent_limit=20)
    urls = [served.http.ws_url(key="peerjs", id=f"s{n}", token="t") for n in range(60)]
    sockets = await asyncio.gather(*(served.http.http.ws_connect(url) for url in urls))
    firsts = [await RawPeer(f"s{n}", "t", ws).recv() for n, ws in enumerate(sockets)]
    opened = [f for f in firsts if f["type"] == "OPEN"]
    refused = [f for f in firsts if f["type"] == "ERROR"]
    assert len(opened) == 20 and len(refused) == 40
    assert all("concurrent user limit" in f["payload"]["msg"] for f in refused)
    for ws in sockets:
        await ws.close()
    await eventually(lambda: not served.lighthouse.clients, "closed sockets are forgotten")
    await served.http.connect("later")  # room again once they are gone


async def _never_reading_client(port: int, peer_id: str) -> socket.socket:
    """A WebSocket client on a raw socket with a tiny receive buffer that never reads a byte."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /peerjs?key=peerjs&id={peer_id}&token=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    return sock


async def test_a_client_that_never_reads_is_dropped_with_bounded_memory(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connected_client, "OUTBOX_LIMIT", 200)  # frames one client may have waiting
    port = int(served.http.base.rsplit(":", 1)[1])
    slow = await _never_reading_client(port, "slow")
    try:
        await eventually(lambda: "slow" in served.lighthouse.clients, "the slow client registers")
        flooder_peer, a, b = [await served.http.connect(name) for name in ("flooder", "a", "b")]
        answers: list[dict[str, Any]] = []
        reader = asyncio.create_task(drain(flooder_peer, answers))
        client = served.lighthouse.clients["slow"]
        most_waiting = 0
        for n in range(20_000):
            await flooder_peer.send({"type": "CANDIDATE", "dst": "slow", "payload": {"n": n, "pad": "x" * 4000}})
            most_waiting = max(most_waiting, client.outbox.qsize())
            if any(f["type"] == "LEAVE" and f["src"] == "slow" for f in answers):
                break
        else:
            pytest.fail("the lighthouse kept queueing for a client that never reads")
        assert most_waiting <= 200
        await eventually(lambda: "slow" not in served.lighthouse.clients, "the slow client is dropped", timeout=30)
        await marker(a, b)
        assert await served.harness_errors() == 0
        reader.cancel()
    finally:
        slow.close()
