"""Peers that actually move (the original's TODO): a random walk toward waypoints, plus the default traffic.

Each peer walks at `SPEED` world units per second toward a random waypoint within `AREA` of the
origin and picks a new one on arrival, so distances (and the connection policy's choices) change
during the run. It sends what the default routine sends.
"""

from __future__ import annotations

import math
import random

from peerperf.routines import RoutinePeer
from peerperf.routines.default import routine as default_routine

SPEED = 4.0
AREA = 64.0


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    rng: random.Random = peer.state.setdefault("rng", random.Random(peer.id))
    x, y, z = peer.position
    target = peer.state.get("target")
    if target is None or math.dist((x, z), target) < 0.5:
        target = peer.state["target"] = (rng.uniform(-AREA, AREA), rng.uniform(-AREA, AREA))
    dx, dz = target[0] - x, target[1] - z
    step = min(SPEED * delta, math.hypot(dx, dz))
    norm = math.hypot(dx, dz) or 1.0
    peer.move_to((x + dx / norm * step, y, z + dz / norm * step))
    default_routine(elapsed, delta, peer)
