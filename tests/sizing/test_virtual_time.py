"""The simulation's event queue: time order, ties in scheduling order, repeats, and dropping events."""

from __future__ import annotations

from peerperf.sizing.virtual_time import EPOCH_MS, EventQueue


def test_events_run_in_time_order_and_ties_in_the_order_they_were_scheduled() -> None:
    queue = EventQueue()
    seen: list[tuple[float, str]] = []
    for when, name in ((0.3, "c"), (0.1, "a"), (0.3, "d"), (0.2, "b")):
        queue.at(when, lambda n=name: seen.append((queue.now, n)))
    queue.run_until(1.0)
    assert seen == [(0.1, "a"), (0.2, "b"), (0.3, "c"), (0.3, "d")]
    assert queue.now == 1.0 and queue.ran == 4


def test_nothing_runs_before_its_time_and_the_past_is_now() -> None:
    queue = EventQueue()
    seen: list[float] = []
    queue.at(2.0, lambda: seen.append(queue.now))
    queue.run_until(1.5)
    assert seen == [] and queue.now == 1.5
    queue.at(0.5, lambda: seen.append(queue.now))  # already past: runs at once, at the current time
    queue.run_until(3.0)
    assert seen == [1.5, 2.0]


def test_every_repeats_from_its_first_time_and_drop_forgets_an_action() -> None:
    queue = EventQueue()
    ticks: list[float] = []
    queue.every(0.25, lambda: ticks.append(queue.now), first=0.5)
    queue.run_until(1.3)
    assert ticks == [0.5, 0.75, 1.0, 1.25]
    frames: list[str] = []

    def arrive(name: str) -> None:
        frames.append(name)

    queue.after(0.1, arrive, "x")
    queue.after(0.2, arrive, "y")
    assert queue.drop(arrive) == 2
    queue.run_until(2.0)
    assert frames == [] and ticks[-1] == 2.0 - 0.25  # the repeat survived the drop


def test_the_mesh_clock_reads_virtual_time() -> None:
    queue = EventQueue()
    clock = queue.mesh_clock()
    queue.run_until(2.5)
    assert clock.monotonic() == 2.5 and clock.wall_ms() == EPOCH_MS + 2500
