"""The tick loop on a simulated clock: deadline pacing without drift, lag and skipped ticks measured."""

from __future__ import annotations

import pytest

from peerperf.sim.tickloop import LagRecorder, TickLoop


class SimClock:
    """Time moves only when the loop sleeps or a tick 'works'."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def run(duration: float, work: dict[int, float], default_work: float = 0.0) -> tuple[TickLoop, list[float]]:
    clock = SimClock()
    ticks: list[float] = []

    def on_tick(now: float, delta: float) -> None:
        ticks.append(now)
        clock.now += work.get(len(ticks), default_work)  # the routine's work time

    loop = TickLoop(60, on_tick, clock=clock, sleep=clock.sleep)
    await loop.run(duration)
    return loop, ticks


async def test_work_time_does_not_drift_the_rate() -> None:
    loop, ticks = await run(10.0, {}, default_work=0.010)  # 10 ms of work in a 16.7 ms tick
    assert len(ticks) == 600  # exactly 60 Hz: the original's setTimeout(16) would fall to ~38 Hz here
    window = loop.lag.window()
    assert window.max == pytest.approx(0.0) and window.missed == 0 and window.ticks == 600


async def test_a_blocking_routine_shows_in_lag_and_skipped_ticks() -> None:
    loop, ticks = await run(2.0, {30: 0.060})  # tick 30 blocks for 60 ms
    window = loop.lag.window()
    assert window.max == pytest.approx(60 - 1000 / 60, abs=0.01)  # the next tick runs ~43 ms late
    assert window.missed == 2  # and the two ticks it overran are skipped, not burst
    assert len(ticks) == 120 - 2
    assert loop.lag.window().ticks == 0  # windows reset


def test_lag_percentiles() -> None:
    recorder = LagRecorder()
    for lag in range(1, 101):
        recorder.record(float(lag))
    window = recorder.window()
    assert (window.p50, window.p99, window.max, window.ticks) == (50.0, 99.0, 100.0, 100)


async def test_a_phase_offsets_every_deadline_without_counting_it_as_lag() -> None:
    clock = SimClock()
    started = clock.now
    ticks: list[float] = []
    loop = TickLoop(60, lambda now, delta: ticks.append(now), clock=clock, sleep=clock.sleep, phase=0.25)
    await loop.run(1.0)
    assert len(ticks) == 60
    assert [t - started for t in ticks[:2]] == pytest.approx([1.25 / 60, 2.25 / 60])  # a quarter tick later
    assert loop.lag.window().max == pytest.approx(0.0)
    with pytest.raises(ValueError, match="phase"):
        TickLoop(60, lambda now, delta: None, phase=1.0)
