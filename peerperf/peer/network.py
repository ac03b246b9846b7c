"""Whom to connect to (reference 2.2 `updateNetwork`): the connection policy as pure functions.

`next_operation` looks at the current mesh and returns the single most urgent step (connect to
some candidates, or drop some connections), in the original's priority order: below target,
above max, upgrade to a nearer peer, and (B) too far. The peer runs steps until none is left.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from peerperf.peer.settings import PeerSettings
from peerperf.protocol.positions import Position, discretized_distance, distance


@dataclass(frozen=True)
class MeshView:
    """What the policy needs to know about one peer's surroundings."""

    position: Position | None
    #: Fully connected peers.
    connected: Sequence[str]
    #: Known peers with no connection (open or opening) that are still worth trying.
    candidates: Sequence[str]
    positions: Mapping[str, Position] = field(default_factory=dict)
    #: Peers sharing at least one room with us.
    room_mates: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Connect:
    peer_ids: tuple[str, ...]


@dataclass(frozen=True)
class Disconnect:
    peer_ids: tuple[str, ...]


Operation = Connect | Disconnect


def band(view: MeshView, peer_id: str, settings: PeerSettings) -> int | None:
    """Discretized distance to `peer_id`, or None when either position is unknown."""
    other = view.positions.get(peer_id)
    if view.position is None or other is None:
        return None
    return discretized_distance(view.position, other, settings.distance_intervals)


def sort_peers(
    view: MeshView, peer_ids: Sequence[str], settings: PeerSettings, rng: random.Random | None = None
) -> list[str]:
    """The original's `peerSortCriteria`: peers with positions first, nearer first, ties random."""
    rng = rng or random.Random()
    keyed = []
    for peer_id in peer_ids:
        d = band(view, peer_id, settings)
        keyed.append((d is None, d if d is not None else 0, rng.random(), peer_id))
    return [peer_id for *_, peer_id in sorted(keyed)]


def next_operation(view: MeshView, settings: PeerSettings, rng: random.Random | None = None) -> Operation | None:
    """The most urgent change to the mesh, or None when it is as it should be."""
    candidates = eligible_candidates(view, settings)
    need = settings.target_connections - len(view.connected)
    if need > 0 and candidates:
        return Connect(tuple(sort_peers(view, candidates, settings, rng)[:need]))
    excess = len(view.connected) - settings.max_connections
    if excess > 0:
        worst_first = list(reversed(sort_peers(view, view.connected, settings, rng)))
        return Disconnect(tuple(worst_first[:excess]))
    if view.position is not None and candidates:
        upgrade = _upgrade(view, candidates, settings, rng)
        if upgrade is not None:
            return upgrade
    if settings.disconnect_distance is not None and view.position is not None:
        too_far = tuple(
            p
            for p in view.connected
            if p not in view.room_mates
            and _world_distance(view, p) is not None
            and (_world_distance(view, p) or 0) >= settings.disconnect_distance
        )
        if too_far:
            return Disconnect(too_far)
    return None


def accept_over_max(view: MeshView, offerer: str, settings: PeerSettings) -> bool:
    """(Reference 2.2, incoming offer) At capacity, accept only an offerer no farther than our worst
    connection; the update that follows trims the worst."""
    offered = band(view, offerer, settings)
    bands = [b for b in (band(view, p, settings) for p in view.connected) if b is not None]
    return offered is not None and bool(bands) and offered <= max(bands)


def eligible_candidates(view: MeshView, settings: PeerSettings) -> list[str]:
    """(B) With `max_connection_distance`, only near peers or room mates are candidates."""
    limit = settings.max_connection_distance
    if limit is None:
        return list(view.candidates)
    return [
        p
        for p in view.candidates
        if p in view.room_mates or ((d := _world_distance(view, p)) is not None and d <= limit)
    ]


def _upgrade(
    view: MeshView, candidates: list[str], settings: PeerSettings, rng: random.Random | None
) -> Connect | None:
    """Connect to a candidate nearer than the worst connected peer; the next step trims above max."""
    best = sort_peers(view, candidates, settings, rng)[0]
    best_band = band(view, best, settings)
    if best_band is None:
        return None
    bands = [b for b in (band(view, p, settings) for p in view.connected) if b is not None]
    if not view.connected or (bands and best_band < max(bands)):
        return Connect((best,))
    return None


def _world_distance(view: MeshView, peer_id: str) -> float | None:
    other = view.positions.get(peer_id)
    if view.position is None or other is None:
        return None
    return distance(view.position, other)
