"""Signaling queued for peers that are not connected yet, delivered when they connect or expired."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass

from peerperf.protocol.signaling_frames import Frame, FrameType


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
