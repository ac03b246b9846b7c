"""The default traffic plus a deliberate CPU hog: checks that the harness reports itself saturated.

Each tick burns `BURN_SECONDS` of CPU on the host's event loop before sending the default traffic,
so packed peers make their host fall behind. Use it to see what a saturated run looks like
(`--routine busy --peers-per-actor 8`), or mix it in to load a host on purpose.
"""

from __future__ import annotations

import time

from peerperf.routines import RoutinePeer
from peerperf.routines.default import routine as default_routine

#: CPU burnt per tick per peer: 8 peers on one host then need about 2.4 cores at 60 Hz.
BURN_SECONDS = 0.005


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    deadline = time.perf_counter() + BURN_SECONDS
    while time.perf_counter() < deadline:
        pass
    default_routine(elapsed, delta, peer)
