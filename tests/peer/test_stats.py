"""Stats windows as the original's stats.ts (reference section 3), on a controlled clock."""

from __future__ import annotations

from peerperf.peer.stats import GlobalStats


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_windows_rates_totals_and_average_size() -> None:
    clock = Clock()
    stats = GlobalStats(clock)  # construction closes the first window: no rate
    for _ in range(10):
        stats.count_sent(100, relayed=False)
    stats.count_received(50, ["relevant"])
    clock.now += 2.0
    stats.close_period()
    m = stats.as_metrics()
    assert (m["sent"], m["sentTotal"], m["sentPerSecond"]) == (10, 10, 5.0)
    assert (m["sentBytes"], m["sentTotalBytes"], m["sentBytesPerSecond"]) == (1000, 1000, 500.0)
    assert m["allTotal"] == 11 and m["allAveragePacketSize"] == 1050 / 11
    # `relevant` appeared during this window: its first window has counts but no rate (the original).
    assert (m["relevant"], m["relevantPerSecond"]) == (1, 0)
    assert m["duplicate"] == m["duplicateTotal"] == m["expiredPerSecond"] == 0

    stats.count_received(50, ["relevant"])
    clock.now += 0.5  # per-second comes from the real window length
    stats.close_period()
    m = stats.as_metrics()
    assert (m["sent"], m["sentTotal"], m["sentPerSecond"]) == (0, 10, 0.0)
    assert (m["relevant"], m["relevantTotal"], m["relevantPerSecond"]) == (1, 2, 2.0)


def test_metrics_keys_in_the_original_order() -> None:
    keys = list(GlobalStats(Clock()).as_metrics())
    assert keys[:3] == ["sent", "sentTotal", "sentPerSecond"] and keys[-1] == "expiredAveragePacketSize"
    assert len(keys) == 49
