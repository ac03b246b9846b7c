"""The original perf-test routine (reference section 3): position, profile and chat at fixed rates.

Position every 100 ms (`unreliable("position")`), profile every 1 s (`unreliable("profile")`), chat
every 10 s (`reliable("chat")`), all to the peer's room. Unlike the original, periods do not drift:
over a run the peer sends exactly 10 + 1 + 0.1 messages per second.
"""

from __future__ import annotations

from peerperf.routines import RoutinePeer

POSITION_PERIOD = 0.1
PROFILE_PERIOD = 1.0
CHAT_PERIOD = 10.0


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    for _ in range(peer.every(POSITION_PERIOD)(elapsed)):
        peer.send_position()
    for _ in range(peer.every(PROFILE_PERIOD)(elapsed)):
        peer.send_profile()
    for _ in range(peer.every(CHAT_PERIOD)(elapsed)):
        peer.send_chat()
