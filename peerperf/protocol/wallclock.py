"""Wall-clock time in milliseconds since the epoch: the unit of every timestamp on the wire and in results."""

from __future__ import annotations

import time


def now_ms() -> float:
    """Now, in ms with sub-ms precision (CommsMessage `time`, latency arithmetic)."""
    return time.time() * 1000


def now_ms_int() -> int:
    """Now, in whole ms (packet timestamps, test start and finish, datapoint times)."""
    return int(time.time() * 1000)
