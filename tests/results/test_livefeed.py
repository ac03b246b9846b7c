"""The live page's figures from datapoints: sums of the latest windows, arrivals so far, the verdict so far."""

from __future__ import annotations

from peerperf.protocol.histogram import Histogram
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.livefeed import STALE_MS, LiveFeed
from peerperf.results.model import DataPoint
from tests.results.conftest import metrics_body


def _point(peer: str, at: int, host: str, lag: float = 2.0, cpu: float = 20.0, **extra: object) -> DataPoint:
    body = metrics_body(
        1, hostId=host, tickLagP99=lag, hostCpuPercent=cpu, originatedPerSecond=11.0, connectedPeersCount=3, **extra
    )
    return DataPoint(peer, at, validate_metrics(body))


def _histogram(*values: float) -> list[int]:
    histogram = Histogram()
    for value in values:
        histogram.record(value)
    return histogram.encode()


def test_a_sample_sums_each_peers_latest_window_and_counts_arrivals_over_the_run() -> None:
    feed = LiveFeed()
    feed.event("t", "start", 1_000, {})
    feed.datapoints("t", [_point("a", 1_000, "h1", uniqueReceived=90, missing=10, lateArrivals=0)])
    feed.datapoints("t", [_point("a", 3_000, "h1", uniqueReceived=100, missing=0, lateArrivals=5)])
    feed.datapoints("t", [_point("b", 3_000, "h2", latencyPositionMs=_histogram(*([4.0] * 98), 80.0, 90.0))])
    sample = feed.sample("t", now_ms=4_000)
    assert sample["originatedPerSecond"] == 22.0  # a's latest window and b's, not a's two windows
    assert sample["connections"] == 3.0 and sample["peersReporting"] == 2
    assert sample["arrivedShare"] == 190 / (190 + 10 - 5)
    assert 75 < sample["latencyP99"]["position"] < 85 and sample["latencyP99"]["chat"] is None
    assert sample["tickLagP99"] == {"h1": 2.0, "h2": 2.0} and sample["status"]["started"] == 1_000
    assert sample["verdict"]["harness"] == "healthy" and sample["verdict"]["loss"] == 5 / 195
    assert feed.sample("t", now_ms=3_000 + STALE_MS + 1)["peersReporting"] == 0


def test_the_verdict_so_far_uses_the_analysis_thresholds_and_history_keeps_one_sample_a_second() -> None:
    feed = LiveFeed()
    feed.datapoints("t", [_point("a", 1_000, "h1", lag=50.0), _point("b", 1_000, "h2", cpu=95.0)])
    feed.event("t", "peers_lost", 2_000, {"count": 2})
    verdict = feed.sample("t", now_ms=1_500)["verdict"]
    assert verdict["harness"] == "saturated" and len(verdict["reasons"]) == 2 and verdict["peersLost"] == 2
    feed.sample("t", now_ms=1_900)
    feed.sample("t", now_ms=2_100)
    assert [s["t"] for s in feed.history("t")] == [1, 2]
    assert LiveFeed().verdict("new")["harness"] == "unknown"
