"""The default routine with every period stretched by 1 / `RATE_SCALE` (bench/peer_capacity.py sets it).

A whole 100-peer layer floods each packet to all 100 peers, more than one process on a small machine
can carry at the original's rates; at a tenth of the rate it fits, and its cost per received packet
is what scales back up.
"""

from __future__ import annotations

from peerperf.routines import RoutinePeer
from peerperf.routines.default import CHAT_PERIOD, POSITION_PERIOD, PROFILE_PERIOD

#: Fraction of the default routine's message rates this routine sends at.
RATE_SCALE = 1.0


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    for _ in range(peer.every(POSITION_PERIOD / RATE_SCALE)(elapsed)):
        peer.send_position()
    for _ in range(peer.every(PROFILE_PERIOD / RATE_SCALE)(elapsed)):
        peer.send_profile()
    for _ in range(peer.every(CHAT_PERIOD / RATE_SCALE)(elapsed)):
        peer.send_chat()
