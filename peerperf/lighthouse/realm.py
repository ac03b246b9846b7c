"""Connected signaling clients and the signaling queued for peers that are offline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from peerperf.protocol.signaling import Frame, FrameType
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
    #: The close started when the outbox overflowed (kept so the task is not garbage-collected).
    closing: asyncio.Future[bool] | None = None

    def send(self, frame: Frame) -> bool:
        """Queue `frame` for this client's writer; False when it cannot take it."""
        if self.ws.closed:
            return False
        try:
            self.outbox.put_nowait(frame.to_json())
        except asyncio.QueueFull:
            log.warning("client %s is not reading its socket; closing it", self.id)
            self.closing = asyncio.ensure_future(self.ws.close())
            return False
        return True

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


@dataclass
class QueuedFrame:
    frame: Frame
    queued_at: float


class OfflineQueue:
    """Signaling for a `dst` that is not connected yet, delivered on connect or expired."""

    def __init__(self, per_peer_limit: int) -> None:
        self._limit = per_peer_limit
        self._queues: dict[str, deque[QueuedFrame]] = {}

    def add(self, dst: str, frame: Frame) -> bool:
        """Queue `frame`; False when `dst` already has `per_peer_limit` frames waiting."""
        queue = self._queues.setdefault(dst, deque())
        if len(queue) >= self._limit:
            return False
        queue.append(QueuedFrame(frame, time.monotonic()))
        return True

    def take(self, dst: str) -> list[Frame]:
        """Everything waiting for `dst`, oldest first, removed from the queue."""
        return [q.frame for q in self._queues.pop(dst, ())]

    def expire(self, timeout: float) -> list[Frame]:
        """Drop queues unread for `timeout` s; returns one EXPIRE owed to each of their sources."""
        now = time.monotonic()
        owed: list[Frame] = []
        for dst in [d for d, q in self._queues.items() if q and now - q[0].queued_at >= timeout]:
            sources = dict.fromkeys(q.frame.src for q in self._queues.pop(dst) if q.frame.src)
            owed.extend(Frame(FrameType.EXPIRE, src=dst, dst=src) for src in sources)
        return owed
