"""Which (peer, stats window) datapoints a test already holds: a retried submission is stored once.

A host resends a datapoint whose answer it never got (a timeout, a cut connection, a results
service killed after storing it), so the same window can arrive twice; analysis would count it
twice. Our peers number their windows (`window`, 1, 2, ...), so one bit per peer and window tells a
copy from a new datapoint. Datapoints without a window (the original browser client) are never
taken for copies.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Windows numbered beyond this are not tracked (2 MB per peer): 24 days of 1 s windows.
MAX_TRACKED_WINDOW = 1 << 24


class SeenWindows:
    """One bitmap of seen window numbers per peer."""

    def __init__(self) -> None:
        self._bits: dict[str, bytearray] = {}

    def first_arrival(self, peer_id: str, window: object) -> bool:
        """Record (`peer_id`, `window`); False when that window of that peer was recorded before."""
        if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window < MAX_TRACKED_WINDOW:
            return True
        bits = self._bits.get(peer_id)
        if bits is None:
            bits = self._bits[peer_id] = bytearray()
        byte, mask = divmod(window, 8)
        if byte >= len(bits):
            bits.extend(bytes(max(byte + 1 - len(bits), len(bits))))  # doubling: amortised growth
        mask = 1 << mask
        if bits[byte] & mask:
            return False
        bits[byte] |= mask
        return True

    def record(self, pairs: Iterable[tuple[str, object]]) -> None:
        """Mark what a restarted service finds already stored."""
        for peer_id, window in pairs:
            self.first_arrival(peer_id, window)
