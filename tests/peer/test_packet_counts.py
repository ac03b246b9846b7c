"""Stats windows as the original's stats.ts (reference section 3), on a controlled clock."""

from __future__ import annotations

from peerperf.peer.packet_counts import GlobalPacketCounts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_windows_rates_totals_and_average_size() -> None:
    clock = Clock()
    stats = GlobalPacketCounts(clock)  # construction closes the first window: no rate
    for _ in range(10):
        stats.count_sent(100, relayed=False)
    stats.count_received(50, relevant=True)
    clock.now += 2.0
    stats.close_period()
    m = stats.as_metrics()
    assert (m["sent"], m["sentTotal"], m["sentPerSecond"]) == (10, 10, 5.0)
    assert (m["sentBytes"], m["sentTotalBytes"], m["sentBytesPerSecond"]) == (1000, 1000, 500.0)
    assert m["allTotal"] == 11 and m["allAveragePacketSize"] == 1050 / 11
    # `relevant` appeared during this window: its first window has counts but no rate (the original).
    assert (m["relevant"], m["relevantPerSecond"]) == (1, 0)
    assert m["duplicate"] == m["duplicateTotal"] == m["expiredPerSecond"] == 0

    stats.count_received(50, relevant=True)
    clock.now += 0.5  # per-second comes from the real window length
    stats.close_period()
    m = stats.as_metrics()
    assert (m["sent"], m["sentTotal"], m["sentPerSecond"]) == (0, 10, 0.0)
    assert (m["relevant"], m["relevantTotal"], m["relevantPerSecond"]) == (1, 2, 2.0)


def test_metrics_keys_in_the_original_order() -> None:
    keys = list(GlobalPacketCounts(Clock()).as_metrics())
    assert keys[:3] == ["sent", "sentTotal", "sentPerSecond"] and keys[-1] == "expiredAveragePacketSize"
    assert len(keys) == 49


def test_a_packet_sent_on_several_connections_counts_each_copy_with_its_subtype() -> None:
    stats = GlobalPacketCounts(Clock())
    stats.count_sent(100, relayed=False, subtype="chat", copies=3)
    stats.count_sent(40, relayed=True, subtype="position", copies=2)
    stats.count_received(60, "chat", duplicate=True, relevant=True)
    stats.close_period()
    m = stats.as_metrics()
    assert (m["sent"], m["sentBytes"], m["relayed"], m["relayedBytes"]) == (3, 300, 2, 80)
    assert (m["allTotal"], m["allTotalBytes"]) == (6, 440)
    assert (m["duplicate"], m["relevant"], m["expired"]) == (1, 1, 0)
    assert stats.subtype_count("sent", "chat") == 3 and stats.subtype_count("all", "chat") == 4
    assert stats.subtypes == {
        ("sent", "chat"): 3,
        ("all", "chat"): 4,
        ("received", "chat"): 1,
        ("duplicate", "chat"): 1,
        ("relevant", "chat"): 1,
        ("relayed", "position"): 2,
        ("all", "position"): 2,
    }
