"""Relay suspension (reference 2.8, B): who stops relaying which source to whom, and the paths that allow it.

A peer that gets a source's packets twice asks the connection that sent the redundant copy to stop
relaying that source for a while, when another path to the source remains; a connection that asks
us is honoured. The mesh sends and receives the requests; this keeps the tables and their deadlines.
The tables are never rebound, so the mesh's hot path may hold them directly.
"""

from __future__ import annotations

from collections.abc import Sequence

#: How long a relay path to a source counts as usable (B's KNOWN_PEER_RELAY_EXPIRE_TIME).
RELAY_PATH_EXPIRY = 30.0
#: What an absent relay-suspension table reads as (shared, so a lookup allocates nothing).
NOTHING_SUSPENDED: dict[str, float] = {}


class RelaySuspension:
    """One peer's suspension tables; `interval` None turns asking off (honouring stays on)."""

    def __init__(self, interval: float | None, duration: float) -> None:
        self.interval = interval
        self.duration = duration
        #: Connection -> source -> until: do not relay that source's packets to that connection.
        self.own: dict[str, dict[str, float]] = {}
        #: Connection -> source -> until: what we asked that connection to stop relaying.
        self.theirs: dict[str, dict[str, float]] = {}
        self.pending: dict[str, list[str]] = {}
        self.last_request: dict[str, float] = {}
        #: Source -> connection -> when a packet of that source last came through that connection.
        self.reachable: dict[str, dict[str, float]] = {}

    def due_request(self, src: str, via: str, now: float, connected: Sequence[str]) -> list[str] | None:
        """After a redundant packet of `src` from `via`: the sources to ask `via` to stop relaying now (the
        list may be empty, as the original sends it), or None when no request is due."""
        if self.interval is None:
            return None
        pending = self.pending.setdefault(via, [])
        if src not in pending:
            relays = [
                r
                for r, seen in self.reachable.get(src, {}).items()
                if r in connected
                and now - seen < RELAY_PATH_EXPIRY
                and self.theirs.get(r, {}).get(src, 0) <= now
                and src not in self.pending.get(r, [])
            ]
            if len(relays) > 1 or (len(relays) == 1 and relays[0] != via):
                pending.append(src)  # at least one other path to src remains
        last = self.last_request.get(via)
        if last is None:
            self.last_request[via] = now  # the original skips the first opportunity
            return None
        if now - last <= self.interval:
            return None
        requested = list(pending)
        theirs = self.theirs.setdefault(via, {})
        for suspended_src in pending:
            theirs[suspended_src] = now + self.duration
        pending.clear()
        self.last_request[via] = now
        return requested

    def honour(self, from_peer: str, sources: Sequence[str], until: float) -> None:
        """`from_peer` asked us not to relay `sources` to it until `until`."""
        suspended = self.own.setdefault(from_peer, {})
        for src in sources:
            suspended[src] = until

    def expire(self, now: float) -> None:
        """Forget suspensions and relay paths past their time."""
        for table in (self.own, self.theirs):
            for conn in list(table):
                table[conn] = {s: until for s, until in table[conn].items() if until > now}
        for src in list(self.reachable):
            paths = {c: seen for c, seen in self.reachable[src].items() if now - seen < RELAY_PATH_EXPIRY}
            if paths:
                self.reachable[src] = paths
            else:
                del self.reachable[src]

    def forget(self, peer_id: str) -> None:
        """Drop everything about a connection that closed."""
        for table in (self.own, self.theirs, self.pending, self.last_request):
            table.pop(peer_id, None)
        for paths in self.reachable.values():
            paths.pop(peer_id, None)

    def suspended(self, via: str, src: str, now: float) -> bool:
        """Whether `via` asked us not to relay `src`'s packets to it at `now`."""
        return self.own.get(via, NOTHING_SUSPENDED).get(src, 0) > now
