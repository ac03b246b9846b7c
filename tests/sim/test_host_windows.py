"""A host numbers each stats window once, even when the timer that closes it fires a hair early; windows close
on the grid and each host submits them at its own delay after it."""

from __future__ import annotations

import time

from peerperf.peer import PeerSettings
from peerperf.protocol.wallclock import now_ms, now_ms_int
from peerperf.results.model import BatchResult, Submission, TestInfo
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig, PeerSpec


def spec(index: int) -> PeerSpec:
    return PeerSpec(index, f"p{index}", "idle", "blue", "room", (0.0, 0.0, 0.0))


def test_a_window_submitted_before_its_end_is_not_numbered_again() -> None:
    host = PeerHost(HostConfig("h", "http://127.0.0.1:9", PeerSettings(), 10.0, 20.0, 0.0), [])
    host._grid_start = time.time() - 5  # 5 s into window 1 of 10 s windows
    assert host._next_window() == 1
    host._last_window = 1  # window 1 went out early (uvloop's timers round to the millisecond)
    assert host._next_window() == 2  # the clock still says 1: a second "window 1" would be a copy


class RecordingResults:
    """A results service in memory that notes when each batch arrives (wall clock, as the grid)."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, list[Submission]]] = []

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        return TestInfo(test_id, now_ms_int())

    async def server_time_ms(self) -> float:
        return now_ms()

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        self.batches.append((time.time(), submissions))
        return BatchResult(len(submissions))

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return BatchResult(len(submissions))

    async def drain(self) -> BatchResult:
        return BatchResult(0)


def test_hosts_submit_their_windows_at_spread_delays() -> None:
    delays = [
        PeerHost(HostConfig("h", "http://127.0.0.1:9", PeerSettings(), 2.0, timer_seed=5), [spec(first)]).submit_delay
        for first in range(0, 100, 10)  # ten hosts of ten peers
    ]
    assert all(0 <= d < 1.0 for d in delays)  # within the second after the window's end
    assert max(sorted(delays)[i + 1] - sorted(delays)[i] for i in range(9)) < 0.25  # spread, not bunched
    assert len({round(d, 6) for d in delays}) == 10


async def test_a_window_closes_on_the_grid_and_is_submitted_after_the_hosts_delay() -> None:
    interval = 0.4
    host = PeerHost(HostConfig("h", "http://127.0.0.1:9", PeerSettings(), interval, 20.0, 0.0, timer_seed=0), [])
    assert host.submit_delay > 0.15  # this seed's host waits (at most half an interval)
    results = RecordingResults()
    # The run ends 0.05 s into window 3's delay: that window still waits its whole delay.
    await host.run(results, "t", 3 * interval + 0.05, 5.0)  # type: ignore[arg-type]
    assert len(results.batches) == 4  # windows 1-3 on the grid, then the last, partial one
    for number, (arrived, _) in enumerate(results.batches[:3], start=1):
        window_end = host._grid_start + number * interval
        assert arrived >= window_end + host.submit_delay - 0.005, f"window {number} was submitted early"
