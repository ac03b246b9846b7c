"""Sequence accounting: first arrivals, gaps declared missing after the grace period, late arrivals."""

from __future__ import annotations

from peerperf.peer.delivery import MAX_PENDING, DeliveryTracker


def test_first_arrivals_and_duplicates() -> None:
    tracker = DeliveryTracker(grace=1.0)
    assert tracker.observe("a", 1, 5, 0.0)
    assert tracker.observe("a", 1, 6, 0.0)
    assert not tracker.observe("a", 1, 6, 0.0)  # a second copy
    assert tracker.observe("a", 2, 6, 0.0)  # another instance of the same peer is another source
    assert tracker.observe("a", 1, 3, 0.0)  # older than the first seen: counted once
    assert not tracker.observe("a", 1, 3, 0.0)
    window = tracker.close_window(10.0)
    assert (window.unique, window.missing, window.late) == (4, 0, 0)


def test_gaps_become_missing_only_after_the_grace_period() -> None:
    tracker = DeliveryTracker(grace=2.0)
    tracker.observe("a", 1, 1, 0.0)
    tracker.observe("a", 1, 5, 1.0)  # 2, 3, 4 overdue since t=1
    assert tracker.observe("a", 1, 3, 1.5)  # reordered, not lost
    assert tracker.close_window(2.0).missing == 0  # still within the grace period
    assert tracker.close_window(3.0).missing == 2  # ids 2 and 4
    late = tracker.observe("a", 1, 4, 3.5)
    window = tracker.close_window(4.0)
    assert late and (window.unique, window.missing, window.late) == (1, 0, 1)


def test_a_huge_jump_is_bounded() -> None:
    tracker = DeliveryTracker(grace=0.0)
    tracker.observe("a", 1, 1, 0.0)
    tracker.observe("a", 1, 2 + MAX_PENDING + 100, 0.0)
    assert tracker.close_window(0.0).missing == MAX_PENDING + 100
