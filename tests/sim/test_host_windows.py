"""A host numbers each stats window once, even when the timer that closes it fires a hair early."""

from __future__ import annotations

import time

from peerperf.peer import PeerSettings
from peerperf.sim.host import HostConfig, PeerHost


def test_a_window_submitted_before_its_end_is_not_numbered_again() -> None:
    host = PeerHost(HostConfig("h", "http://127.0.0.1:9", PeerSettings(), 10.0, 20.0, 0.0), [])
    host._grid_start = time.time() - 5  # 5 s into window 1 of 10 s windows
    assert host._next_window() == 1
    host._last_window = 1  # window 1 went out early (uvloop's timers round to the millisecond)
    assert host._next_window() == 2  # the clock still says 1: a second "window 1" would be a copy
