"""Packet statistics exactly as the original's `stats.ts` (reference section 3 "Stats computation").

`sent`, `received`, `relayed` and `all` always exist; `duplicate`, `expired` and `relevant` appear
on first use. Every count adds one packet and its encoded size. Each window, the window values are
the accumulators, per-second rates divide by the real elapsed window length, and the accumulators
reset. A category's first window (at construction, or the first after it appears) has no rate.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from peerperf.protocol.metrics import CATEGORIES

Clock = Callable[[], float]


@dataclass
class Stats:
    """Counters of one category."""

    total_packets: int = 0
    total_bytes: int = 0
    period_packets: int = 0
    period_bytes: int = 0
    packets_per_second: float = 0.0
    bytes_per_second: float = 0.0
    _acc_packets: int = 0
    _acc_bytes: int = 0
    _last_period: float | None = None

    def count(self, size: int) -> None:
        self.total_packets += 1
        self.total_bytes += size
        self._acc_packets += 1
        self._acc_bytes += size

    @property
    def average_packet_size(self) -> float:
        return self.total_bytes / self.total_packets if self.total_packets else 0.0

    def close_period(self, now: float) -> None:
        """End a window at `now` (seconds): publish window values and rates, reset accumulators."""
        self.period_packets, self.period_bytes = self._acc_packets, self._acc_bytes
        if self._last_period is not None and now > self._last_period:
            elapsed = now - self._last_period
            self.packets_per_second = self._acc_packets / elapsed
            self.bytes_per_second = self._acc_bytes / elapsed
        self._last_period = now
        self._acc_packets = self._acc_bytes = 0

    def as_metrics(self, name: str) -> dict[str, float]:
        """The seven keys of this category in the original's submission body."""
        return {
            name: self.period_packets,
            f"{name}Total": self.total_packets,
            f"{name}PerSecond": self.packets_per_second,
            f"{name}Bytes": self.period_bytes,
            f"{name}TotalBytes": self.total_bytes,
            f"{name}BytesPerSecond": self.bytes_per_second,
            f"{name}AveragePacketSize": self.average_packet_size,
        }


@dataclass
class GlobalStats:
    """All categories of one peer, windowed every `period` seconds by the owner's loop."""

    clock: Clock = time.monotonic
    categories: dict[str, Stats] = field(default_factory=dict)
    #: Packets per category and subtype (the original's per-subtype stats), e.g. `[("received", "chat")]`.
    subtypes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for name in ("sent", "received", "relayed", "all", "originated"):
            self.categories[name] = Stats()
        self.close_period()  # the original's tick at construction: no rates yet

    def count_sent(self, size: int, relayed: bool, subtype: str = "") -> None:
        self._count("relayed" if relayed else "sent", size, subtype)
        self._count("all", size, subtype)

    def count_originated(self, size: int, subtype: str = "") -> None:
        """A packet this peer created (counted once, however many connections it goes out on)."""
        self._count("originated", size, subtype)

    def count_received(self, size: int, tags: Iterable[str], subtype: str = "") -> None:
        self._count("received", size, subtype)
        self._count("all", size, subtype)
        for tag in tags:
            self._count(tag, size, subtype)

    def _count(self, category: str, size: int, subtype: str) -> None:
        self.categories.setdefault(category, Stats()).count(size)
        self.subtypes[category, subtype] += 1

    def close_period(self) -> None:
        now = self.clock()
        for stats in self.categories.values():
            stats.close_period(now)

    def as_metrics(self) -> dict[str, Any]:
        """Every category's keys in the original's order; missing categories are 0."""
        out: dict[str, Any] = {}
        for name in CATEGORIES:
            out.update((self.categories.get(name) or Stats()).as_metrics(name))
        return out

    def originated_metrics(self) -> dict[str, Any]:
        """peerperf's `originated` counts: packets created here, whatever the connection count."""
        stats = self.categories.get("originated") or Stats()
        return {
            "originated": stats.period_packets,
            "originatedTotal": stats.total_packets,
            "originatedPerSecond": stats.packets_per_second,
        }
