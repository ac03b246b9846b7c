"""The `/peerjs` WebSocket endpoint: handshake, then one `Lighthouse.handle` call per frame."""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import WSMsgType, web

from peerperf.errors import ProtocolError
from peerperf.lighthouse.connected_client import Client, close_socket
from peerperf.lighthouse.lighthouse import CloseConnection, Lighthouse
from peerperf.protocol.ids import is_valid_peer_id
from peerperf.protocol.signaling_frames import (
    PEERJS_KEY,
    AssignedIdPayload,
    Frame,
    FrameType,
    MessagePayload,
    error_frame,
)

log = logging.getLogger(__name__)

LIGHTHOUSE: web.AppKey[Lighthouse] = web.AppKey("lighthouse", Lighthouse)


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    """Register the peer named in the query string and serve its frames until it goes."""
    lighthouse = request.app[LIGHTHOUSE]
    ws = web.WebSocketResponse(compress=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    try:
        client = await _register(lighthouse, ws, request.query, request.transport)
    except CloseConnection:
        await ws.close()
        return ws
    pump = lighthouse.supervisor.spawn(client.pump(ws, lighthouse.supervisor), f"the writer of client {client.id}")
    try:
        for frame in lighthouse.queue.take(client.id):
            client.send(frame)
        await _serve(lighthouse, client, ws)
    finally:
        if not ws.closed:
            await client.flush()
        if pump is not None:
            pump.cancel()
            await asyncio.wait([pump])
        await ws.close()
        if client.ws is ws:
            lighthouse.disconnect(client)
    return ws


async def _register(
    lighthouse: Lighthouse, ws: web.WebSocketResponse, query: object, transport: asyncio.Transport | None
) -> Client:
    """Handshake step 1: check key, token and id; send ASSIGNED_ID and OPEN as the original."""
    assert hasattr(query, "get")
    key, token, peer_id = query.get("key"), query.get("token"), query.get("id")

    async def refuse(frame: Frame) -> None:
        await ws.send_str(frame.to_json())
        raise CloseConnection()

    if key != PEERJS_KEY:
        await refuse(error_frame("Invalid key provided"))
    if not token:
        await refuse(error_frame("No id, token, or key supplied to websocket server"))
    if len(lighthouse.clients) >= lighthouse.settings.concurrent_limit:
        await refuse(error_frame("Server has reached its concurrent user limit"))
    if not peer_id:
        peer_id = lighthouse.assign_id()
        if peer_id is None:
            await refuse(error_frame("No available id has been found"))
        assert peer_id is not None
        await ws.send_str(Frame(FrameType.ASSIGNED_ID, payload=AssignedIdPayload(peer_id)).to_json())
    elif not is_valid_peer_id(peer_id):
        await refuse(error_frame(f"Invalid id {peer_id[:64]!r}: use letters, digits and inner ' _-'"))

    existing = lighthouse.clients.get(peer_id)
    if existing is not None:
        if existing.token != token:
            await refuse(Frame(FrameType.ID_TAKEN, payload=MessagePayload("ID is taken")))
        old_ws, old_transport = existing.ws, existing.transport
        existing.ws, existing.transport = ws, transport  # same id and token: the peer's new socket, no OPEN
        await close_socket(old_ws, old_transport)
        log.info("peer %s reattached a new socket", peer_id)
        return existing
    client = Client(peer_id, token, secrets.token_urlsafe(16), ws, transport=transport)
    lighthouse.clients[peer_id] = client
    client.send(Frame(FrameType.OPEN, payload=client.challenge))
    log.info("peer %s registered", peer_id)
    return client


async def _serve(lighthouse: Lighthouse, client: Client, ws: web.WebSocketResponse) -> None:
    async for message in ws:
        if message.type is not WSMsgType.TEXT:
            if message.type is WSMsgType.BINARY:
                client.send(error_frame("signaling frames are JSON text, not binary"))
                continue
            break
        try:
            frame = Frame.from_json(message.data)
        except ProtocolError as exc:
            log.warning("bad frame from %s: %s", client.id, exc)
            client.send(error_frame(str(exc)))
            continue
        try:
            lighthouse.handle(client, frame)
        except CloseConnection:
            return
        except Exception as exc:  # a bug, not the client's fault: answered, counted, and the next frame is read
            lighthouse.supervisor.report(f"handling a {frame.type.value} frame from {client.id}", exc)
            client.send(error_frame(f"the lighthouse failed to handle this {frame.type.value} frame"))
