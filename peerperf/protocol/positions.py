"""Positions and the discretized distance peers and the lighthouse rank each other by (reference 1.5)."""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Distance bands of snapshot A (`[32, 64, 80]`); B added 128 and 160.
DEFAULT_DISTANCE_INTERVALS: tuple[float, ...] = (32.0, 64.0, 80.0)
#: Size of a parcel in world units; heartbeats carry `[floor(x/16), floor(z/16)]`.
PARCEL_SIZE = 16

#: x, y and z in world units (or just x and y: the lighthouse accepts 2-D positions too).
Position = tuple[float, ...]


def squared_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Squared Euclidean distance over x and y, plus z only when both are 3-D (as the original)."""
    dims = 3 if len(a) >= 3 and len(b) >= 3 else 2
    return sum((a[i] - b[i]) ** 2 for i in range(dims))


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Euclidean distance in world units."""
    return math.sqrt(squared_distance(a, b))


def discretized_distance(
    a: Sequence[float], b: Sequence[float], intervals: Sequence[float] = DEFAULT_DISTANCE_INTERVALS
) -> int:
    """Index of the first band `I` with `distance <= I`, or `len(intervals)` beyond the last."""
    d2 = squared_distance(a, b)
    for index, interval in enumerate(intervals):
        if d2 <= interval * interval:
            return index
    return len(intervals)


def parcel_of(position: Sequence[float]) -> tuple[int, int]:
    """The parcel a 3-D position lies in: `[floor(x/16), floor(z/16)]`."""
    return math.floor(position[0] / PARCEL_SIZE), math.floor(position[2] / PARCEL_SIZE)
