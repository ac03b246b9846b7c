"""The default routine at a fraction of its rates, read from `PLAN_VALIDATION_RATE` when first imported.

bench/plan_validation.py runs bigger layers at low rates to check the simulation's copies per packet
where full rates would swamp the machine; its packed layers run in child processes, which read the
same variable, so the simulation and the real layer run the same routine.
"""

from __future__ import annotations

import os

from peerperf.routines import RoutinePeer
from peerperf.routines.default import CHAT_PERIOD, POSITION_PERIOD, PROFILE_PERIOD

#: Fraction of the default routine's message rates.
RATE = float(os.environ.get("PLAN_VALIDATION_RATE", "1"))


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    for _ in range(peer.every(POSITION_PERIOD / RATE)(elapsed)):
        peer.send_position()
    for _ in range(peer.every(PROFILE_PERIOD / RATE)(elapsed)):
        peer.send_profile()
    for _ in range(peer.every(CHAT_PERIOD / RATE)(elapsed)):
        peer.send_chat()
