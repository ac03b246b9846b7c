"""The phase rule on a simulated clock: seeded, recorded per timer, and spread where lockstep was."""

from __future__ import annotations

import pytest

from peerperf.peer import PeerSettings
from peerperf.peer.timer_phases import TimerPhases, first_firing
from peerperf.sim.phases import PEER_TIMERS, peer_phases, phase

#: The original client's ping settings: a round every 9 ms + 7 s.
PINGS = PeerSettings(ping_interval=0.009)
ROUND = 0.009 + PINGS.ping_timeout
WINDOW = 2.0


def round_starts(phases: list[TimerPhases], until: float) -> list[float]:
    """When each peer's ping rounds start, peers connected at t = 0 (the start barrier's instant)."""
    starts = []
    for timers in phases:
        t = first_firing(timers.ping, ROUND, PINGS.ping_interval)
        while t < until:
            starts.append(t)
            t += ROUND
    return starts


def rounds_per_window(starts: list[float], offset: float, until: float) -> list[int]:
    """Rounds per stats window of a grid starting `offset` s after the peers connected (whole windows only)."""
    windows = [0] * int((until - offset) // WINDOW)
    for t in starts:
        index = int((t - offset) // WINDOW)
        if 0 <= index < len(windows):
            windows[index] += 1
    return windows


def test_the_same_seed_gives_the_same_phases_and_another_seed_others() -> None:
    assert peer_phases(7, 3) == peer_phases(7, 3)
    assert peer_phases(7, 3) != peer_phases(8, 3)
    assert peer_phases(7, 3) != peer_phases(7, 4)
    recorded = peer_phases(7, 3).as_dict()
    assert set(recorded) == set(PEER_TIMERS)
    assert all(0 <= value < 1 for value in recorded.values())
    assert len(set(recorded.values())) == len(PEER_TIMERS)  # timers of one peer are not aligned either


def test_unset_phases_keep_the_original_first_firing() -> None:
    assert first_firing(None, ROUND, PINGS.ping_interval) == PINGS.ping_interval  # the first round 9 ms in
    assert first_firing(None, 5.0) == 5.0  # a heartbeat one interval in
    assert first_firing(0.25, 5.0) == 1.25
    with pytest.raises(ValueError, match="ping must be in"):
        TimerPhases(ping=1.0)


@pytest.mark.parametrize("seed", range(40))
def test_ping_rounds_of_ten_peers_spread_over_the_round_period(seed: int) -> None:
    until = 120.0
    spread = round_starts([peer_phases(seed, index) for index in range(10)], until)
    lockstep = round_starts([TimerPhases() for _ in range(10)], until)
    for offset in (0.0, 0.7, 1.3):  # wherever the stats grid falls against the join
        average = 10 * WINDOW / ROUND
        assert max(rounds_per_window(spread, offset, until)) <= 2 * average
        assert max(rounds_per_window(lockstep, offset, until)) == 10  # the old schedule: all at once


def test_consecutive_peers_are_spread_in_every_room_of_a_run() -> None:
    """A room is a run of consecutive indices anywhere in the population: each is spread on its own."""
    for first in (0, 10, 40, 990):
        phases = sorted(phase(11, "ping", index) for index in range(first, first + 10))
        gaps = [b - a for a, b in zip(phases, [*phases[1:], phases[0] + 1], strict=True)]
        assert max(gaps) < 2.0 / 10  # no gap above twice the even spacing (independent draws: ~0.3)
