"""Packet counts exactly as the original's `stats.ts` computes them (reference section 3 "Stats computation").

The original calls them stats; here they are counts, the metrics `sent`, `sentTotal`, `sentPerSecond`, ...
(`peerperf.protocol.metrics` declares every metric; `peerperf.peer.delivery_metrics` measures the rest).

`sent`, `received`, `relayed` and `all` always exist; `duplicate`, `expired` and `relevant` appear
on first use. Every count adds one packet and its encoded size. Each window, the window values are
the totals' growth since the last window, per-second rates divide by the real elapsed window length.
A category's first window (at construction, or the first after it appears) has no rate.

Counting runs once or more per packet, so it allocates nothing: totals are plain integers, per-subtype
counts a list per subtype made on first use, and a packet sent on several connections is counted
once with its number of copies.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peerperf.protocol.metrics import CATEGORIES

Clock = Callable[[], float]

#: Every category a packet can be counted in, in the order of the per-subtype count lists.
COUNTED = ("sent", "received", "relayed", "all", "originated", "relevant", "duplicate", "expired")
SENT, RECEIVED, RELAYED, ALL, ORIGINATED, RELEVANT, DUPLICATE, EXPIRED = range(len(COUNTED))


@dataclass(slots=True)
class PacketCounts:
    """Counters of one category."""

    total_packets: int = 0
    total_bytes: int = 0
    period_packets: int = 0
    period_bytes: int = 0
    packets_per_second: float = 0.0
    bytes_per_second: float = 0.0
    _closed_packets: int = 0
    _closed_bytes: int = 0
    _last_period: float | None = None

    def count(self, size: int, copies: int = 1) -> None:
        self.total_packets += copies
        self.total_bytes += size * copies

    @property
    def average_packet_size(self) -> float:
        return self.total_bytes / self.total_packets if self.total_packets else 0.0

    def close_period(self, now: float) -> None:
        """End a window at `now` (seconds): publish the window's values and rates."""
        self.period_packets = self.total_packets - self._closed_packets
        self.period_bytes = self.total_bytes - self._closed_bytes
        if self._last_period is not None and now > self._last_period:
            elapsed = now - self._last_period
            self.packets_per_second = self.period_packets / elapsed
            self.bytes_per_second = self.period_bytes / elapsed
        self._last_period = now
        self._closed_packets, self._closed_bytes = self.total_packets, self.total_bytes

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


class GlobalPacketCounts:
    """All categories of one peer, windowed every `period` seconds by the owner's loop."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._sent, self._received, self._relayed, self._all, self._originated = (PacketCounts() for _ in range(5))
        self.categories: dict[str, PacketCounts] = {
            "sent": self._sent,
            "received": self._received,
            "relayed": self._relayed,
            "all": self._all,
            "originated": self._originated,
        }
        #: Subtype -> packets per category, indexed as `COUNTED` (the original's per-subtype stats).
        self._by_subtype: dict[str, list[int]] = {}
        #: Subtype -> packets received up to the last window's close, and received in that window.
        self._received_closed: dict[str, int] = {}
        self.received_in_window: dict[str, int] = {}
        self.close_period()  # the original's tick at construction: no rates yet

    def count_sent(self, size: int, relayed: bool, subtype: str = "", copies: int = 1) -> None:
        """One packet of `size` bytes sent on `copies` connections."""
        (self._relayed if relayed else self._sent).count(size, copies)
        self._all.count(size, copies)
        counts = self._subtype(subtype)
        counts[RELAYED if relayed else SENT] += copies
        counts[ALL] += copies

    def count_originated(self, size: int, subtype: str = "") -> None:
        """A packet this peer created (counted once, however many connections it goes out on)."""
        self._originated.count(size)
        self._subtype(subtype)[ORIGINATED] += 1

    def count_received(
        self, size: int, subtype: str = "", duplicate: bool = False, expired: bool = False, relevant: bool = False
    ) -> None:
        """One packet received (positional flags: this runs for every packet)."""
        received, all_ = self._received, self._all
        received.total_packets += 1
        received.total_bytes += size
        all_.total_packets += 1
        all_.total_bytes += size
        counts = self._by_subtype.get(subtype)
        if counts is None:
            counts = self._subtype(subtype)
        counts[RECEIVED] += 1
        counts[ALL] += 1
        if duplicate:
            self._tag(DUPLICATE).count(size)
            counts[DUPLICATE] += 1
        if expired:
            self._tag(EXPIRED).count(size)
            counts[EXPIRED] += 1
        if relevant:
            self._tag(RELEVANT).count(size)
            counts[RELEVANT] += 1

    def _subtype(self, subtype: str) -> list[int]:
        counts = self._by_subtype.get(subtype)
        if counts is None:
            counts = self._by_subtype[subtype] = [0] * len(COUNTED)
        return counts

    def _tag(self, index: int) -> PacketCounts:
        """A category that appears on first use (its first window has no rate)."""
        name = COUNTED[index]
        stats = self.categories.get(name)
        if stats is None:
            stats = self.categories[name] = PacketCounts()
        return stats

    def subtype_count(self, category: str, subtype: str) -> int:
        """Packets of `subtype` counted in `category` so far."""
        counts = self._by_subtype.get(subtype)
        return counts[COUNTED.index(category)] if counts is not None else 0

    @property
    def subtypes(self) -> Counter[tuple[str, str]]:
        """Packets per category and subtype, e.g. `[("received", "chat")]` (a snapshot)."""
        snapshot: Counter[tuple[str, str]] = Counter()
        for subtype, counts in self._by_subtype.items():
            snapshot.update({(name, subtype): n for name, n in zip(COUNTED, counts, strict=True) if n})
        return snapshot

    def close_period(self) -> None:
        now = self.clock()
        for stats in self.categories.values():
            stats.close_period(now)
        totals = {subtype: counts[RECEIVED] for subtype, counts in self._by_subtype.items()}
        self.received_in_window = {
            subtype or "none": total - self._received_closed.get(subtype, 0)
            for subtype, total in totals.items()
            if total > self._received_closed.get(subtype, 0)
        }
        self._received_closed = totals

    def as_metrics(self) -> dict[str, Any]:
        """Every category's keys in the original's order; missing categories are 0."""
        out: dict[str, Any] = {}
        for name in CATEGORIES:
            out.update((self.categories.get(name) or PacketCounts()).as_metrics(name))
        return out

    def window_metrics(self) -> dict[str, Any]:
        """peerperf's per-window counts of these stats: `receivedBySubtype` (every copy; no subtype: `none`)."""
        return {"receivedBySubtype": dict(self.received_in_window)}

    def originated_metrics(self) -> dict[str, Any]:
        """peerperf's `originated` counts: packets created here, whatever the connection count."""
        stats = self._originated
        return {
            "originated": stats.period_packets,
            "originatedTotal": stats.total_packets,
            "originatedPerSecond": stats.packets_per_second,
        }
