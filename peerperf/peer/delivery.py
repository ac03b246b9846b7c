"""Exact loss from sequence numbers: which packets of each source never arrived.

Every packet carries its source, the source's instance and a per-instance `sequenceId` that grows
by one per packet (reference 2.4), and a layer floods every packet to every peer. So a receiver
knows, per source, exactly which ids it has not seen. An id counts as *missing* once it has been
overdue for a whole grace period (it may still be in flight on a slower path until then); if it
arrives after all it counts as a *late arrival*, so `missing - late` is exact over any span.

Ids below the first one seen from a source predate this receiver's view of it and are not
accounted. The original's one-hop packets (`suspendRelay`, ttl 1) use the same counter but reach
only one neighbour, so with relay suspension on, other receivers count them as missing: the
analysis's delivery ratio, computed from counts, does not depend on this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peerperf.protocol.metrics import ARRIVAL_GRACE_S

#: Most gap ids remembered per source; a larger jump counts its excess as missing at once.
MAX_PENDING = 4096
#: How long declared-missing ids are remembered to recognise late arrivals (seconds).
LATE_MEMORY = 60.0


@dataclass
class _Source:
    """What one receiver knows of one source instance's sequence."""

    first: int
    highest: int
    #: Gap id -> when it became overdue (monotonic s).
    pending: dict[int, float] = field(default_factory=dict)
    #: Declared-missing id -> when it was declared.
    declared: dict[int, float] = field(default_factory=dict)
    #: Ids below `first` seen so far (reordering around the first contact).
    early: set[int] = field(default_factory=set)


@dataclass
class DeliveryWindow:
    """One window's delivery accounting, all from other peers."""

    unique: int = 0
    missing: int = 0
    late: int = 0


class DeliveryTracker:
    """Per-source sequence accounting of one receiver."""

    def __init__(self, grace: float = ARRIVAL_GRACE_S) -> None:
        self.grace = grace
        #: Source -> its instance -> sequence state (nested, so a lookup builds no key).
        self._sources: dict[str, dict[int, _Source]] = {}
        self.window = DeliveryWindow()

    def observe(self, src: str, instance: int, sequence: int, now: float) -> bool:
        """Record an arriving packet; True when it is the first arrival of this id."""
        instances = self._sources.get(src)
        if instances is None:
            instances = self._sources[src] = {}
        source = instances.get(instance)
        if source is None:
            instances[instance] = _Source(sequence, sequence)
            self.window.unique += 1
            return True
        if sequence > source.highest:
            gap = sequence - source.highest - 1
            if gap > MAX_PENDING:
                self.window.missing += gap - MAX_PENDING
            for missing_id in range(max(source.highest + 1, sequence - MAX_PENDING), sequence):
                source.pending[missing_id] = now
            source.highest = sequence
            self.window.unique += 1
            return True
        if sequence < source.first:
            if sequence in source.early or len(source.early) >= MAX_PENDING:
                return False
            source.early.add(sequence)
            self.window.unique += 1
            return True
        if source.pending.pop(sequence, None) is not None:
            self.window.unique += 1
            return True
        if source.declared.pop(sequence, None) is not None:
            self.window.unique += 1
            self.window.late += 1
            return True
        return False

    def close_window(self, now: float) -> DeliveryWindow:
        """Declare ids overdue for longer than the grace period missing; return and reset the window."""
        for instances in self._sources.values():
            for source in instances.values():
                self._declare_overdue(source, now)
        window, self.window = self.window, DeliveryWindow()
        return window

    def _declare_overdue(self, source: _Source, now: float) -> None:
        overdue = [i for i, since in source.pending.items() if now - since >= self.grace]
        for missing_id in overdue:
            del source.pending[missing_id]
            source.declared[missing_id] = now
        self.window.missing += len(overdue)
        if source.declared:
            source.declared = {i: t for i, t in source.declared.items() if now - t < LATE_MEMORY}
