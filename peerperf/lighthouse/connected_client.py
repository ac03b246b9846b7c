"""A connected signaling client: its registration, its WebSocket and the writer of its outbox."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from aiohttp import web

from peerperf.protocol.signaling_frames import Frame
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

#: Frames buffered for one client before it counts as too slow and is dropped.
OUTBOX_LIMIT = 10_000


@dataclass(eq=False)
class Client:
    """One peer's registration: its id, token and current WebSocket."""

    id: str
    token: str
    challenge: str
    ws: web.WebSocketResponse
    authenticated: bool = False
    #: Monotonic time of registration or the last HEARTBEAT.
    last_seen: float = field(default_factory=time.monotonic)
    outbox: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(OUTBOX_LIMIT))
    #: The connection under `ws`, cut at once when the client stops reading.
    transport: asyncio.Transport | None = None

    def send(self, frame: Frame) -> bool:
        """Queue `frame` for this client's writer; False when it cannot take it."""
        if self.ws.closed or (self.transport is not None and self.transport.is_closing()):
            return False
        try:
            self.outbox.put_nowait(frame.to_json())
        except asyncio.QueueFull:
            log.warning("client %s is not reading its socket (%d frames waiting); cutting it", self.id, OUTBOX_LIMIT)
            self.abort()
            return False
        return True

    def abort(self) -> None:
        """Cut the connection now: with a client that does not read, a closing handshake never ends."""
        if self.transport is not None:
            self.transport.abort()

    async def close(self) -> None:
        await close_socket(self.ws, self.transport)

    async def pump(self, ws: web.WebSocketResponse, supervisor: Supervisor) -> None:
        """Write queued frames to `ws` in order until cancelled; a frame that fails is reported, not fatal."""
        while True:
            text = await self.outbox.get()
            try:
                await ws.send_str(text)
            except ConnectionError as exc:  # the socket is closing: the handler sees it and unregisters the client
                log.debug("client %s: frame not sent: %s", self.id, exc)
            except Exception as exc:
                supervisor.report(f"writing a frame to client {self.id}", exc)
            finally:
                self.outbox.task_done()

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait until every queued frame is written (or `timeout` passes)."""
        try:
            await asyncio.wait_for(self.outbox.join(), timeout)
        except TimeoutError:
            log.warning("client %s: %d frames unsent at close", self.id, self.outbox.qsize())


async def close_socket(ws: web.WebSocketResponse, transport: asyncio.Transport | None, timeout: float = 2.0) -> None:
    """Close politely, or cut the connection when the client does not take the close within `timeout` s."""
    try:
        await asyncio.wait_for(ws.close(), timeout)
    except TimeoutError:
        if transport is not None:
            transport.abort()
