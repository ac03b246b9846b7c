"""Connected signaling clients and the signaling queued for peers that are offline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from aiohttp import web

from peerperf.protocol.signaling_frames import Frame, FrameType
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


@dataclass
class QueuedFrame:
    frame: Frame
    queued_at: float


class OfflineQueue:
    """Signaling for a `dst` that is not connected yet, delivered on connect or expired.

    Bounded both ways: `per_peer_limit` frames wait for one `dst`, and one source has at most
    `per_source_limit` frames waiting in all, so a client naming endless made-up peers cannot grow
    the lighthouse's memory.
    """

    def __init__(self, per_peer_limit: int, per_source_limit: int | None = None) -> None:
        self._limit = per_peer_limit
        self._source_limit = per_source_limit if per_source_limit is not None else 10 * per_peer_limit
        self._queues: dict[str, deque[QueuedFrame]] = {}
        self._by_source: Counter[str | None] = Counter()

    def add(self, dst: str, frame: Frame) -> bool:
        """Queue `frame`; False when `dst`, or `frame`'s source, already has its limit of frames waiting."""
        queue = self._queues.get(dst)
        if (queue is not None and len(queue) >= self._limit) or self._by_source[frame.src] >= self._source_limit:
            return False
        self._queues.setdefault(dst, deque()).append(QueuedFrame(frame, time.monotonic()))
        self._by_source[frame.src] += 1
        return True

    def take(self, dst: str) -> list[Frame]:
        """Everything waiting for `dst`, oldest first, removed from the queue."""
        frames = [q.frame for q in self._queues.pop(dst, ())]
        self._forget(frames)
        return frames

    def queued(self) -> int:
        """Frames waiting in all."""
        return sum(len(q) for q in self._queues.values())

    def _forget(self, frames: list[Frame]) -> None:
        for frame in frames:
            self._by_source[frame.src] -= 1
            if self._by_source[frame.src] <= 0:
                del self._by_source[frame.src]

    def expire(self, timeout: float) -> list[Frame]:
        """Drop queues unread for `timeout` s; returns one EXPIRE owed to each of their sources."""
        now = time.monotonic()
        owed: list[Frame] = []
        for dst in [d for d, q in self._queues.items() if q and now - q[0].queued_at >= timeout]:
            expired = [q.frame for q in self._queues.pop(dst)]
            self._forget(expired)
            sources = dict.fromkeys(f.src for f in expired if f.src)
            owed.extend(Frame(FrameType.EXPIRE, src=dst, dst=src) for src in sources)
        return owed
