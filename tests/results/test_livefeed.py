"""The live page's figures from datapoints: sums of the latest windows, arrivals so far, the verdict so far."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from peerperf.analysis.summarise import summary
from peerperf.protocol.histogram import Histogram
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.livefeed import STALE_MS, LiveFeed
from peerperf.results.model import DataPoint
from tests.analysis.fixtures import Scenario
from tests.analysis.test_verdict import PINGS, ROUNDS
from tests.results.conftest import metrics_body


def _histogram(*values: float) -> list[int]:
    histogram = Histogram()
    for value in values:
        histogram.record(value)
    return histogram.encode()


def _point(
    peer: str, at: int, host: str, window: int = 3, lag: float = 2.0, cpu: float = 20.0, **extra: Any
) -> DataPoint:
    body = metrics_body(
        1,
        hostId=host,
        window=window,
        tickLagMs=_histogram(*([lag] * 120)),
        tickLagP99=lag,
        hostCpuPercent=cpu,
        originatedPerSecond=11.0,
        connectedPeersCount=3,
        **extra,
    )
    return DataPoint(peer, at, validate_metrics(body))


def _feed(rows: list[dict[str, Any]]) -> LiveFeed:
    feed = LiveFeed()
    points = [
        DataPoint(r["peerId"], r["timestamp"], validate_metrics({**r, "position": [0.0, 0.0, 0.0]})) for r in rows
    ]
    feed.datapoints("t", points)
    return feed


def test_a_sample_sums_each_peers_latest_window_and_counts_arrivals_over_the_run() -> None:
    feed = LiveFeed()
    feed.event("t", "start", 1_000, {})
    feed.datapoints("t", [_point("a", 1_000, "h1", window=1, uniqueReceived=90, missing=10, lateArrivals=0)])
    feed.datapoints("t", [_point("a", 3_000, "h1", window=2, uniqueReceived=100, missing=0, lateArrivals=5)])
    feed.datapoints("t", [_point("b", 3_000, "h2", window=2, latencyPositionMs=_histogram(*([4.0] * 98), 80.0, 90.0))])
    sample = feed.sample("t", now_ms=4_000)
    assert sample["originatedPerSecond"] == 22.0  # a's latest window and b's, not a's two windows
    assert sample["connections"] == 3.0 and sample["peersReporting"] == 2
    assert sample["arrivedShare"] == 190 / (190 + 10 - 5)
    assert 75 < sample["latencyP99"]["position"] < 85 and sample["latencyP99"]["chat"] is None
    assert sample["tickLagP99"] == {"h1": 2.0, "h2": 2.0} and sample["status"]["started"] == 1_000
    assert sample["verdict"]["loss"] == 5 / 195
    assert feed.sample("t", now_ms=3_000 + STALE_MS + 1)["peersReporting"] == 0


def test_missing_tick_lag_or_cpu_is_unknown_never_healthy() -> None:
    for missing in ("tickLagMs", "hostCpuPercent"):
        feed = LiveFeed()
        for window in range(3, 6):
            point = _point("a", window * 2000, "h1", window=window)
            if window == 4:
                point.metrics.pop(missing)
                point.metrics.pop("tickLagP99")
            feed.datapoints("t", [point])
        verdict = feed.verdict("t")
        assert verdict["harness"] == "unknown", (missing, verdict)
        assert "no evidence for" in verdict["reasons"][0]


def test_the_verdict_so_far_covers_the_whole_run_not_the_latest_window() -> None:
    feed = LiveFeed()
    feed.datapoints("t", [_point("a", 6_000, "h1", window=3, cpu=95.0)])
    for window in range(4, 7):
        feed.datapoints("t", [_point("a", window * 2000, "h1", window=window, cpu=95.0 if window < 6 else 20.0)])
    feed.datapoints("t", [_point("b", 12_000, "h2", window=6, lag=2.0)])
    verdict = feed.sample("t", now_ms=12_500)["verdict"]
    assert verdict["harness"] == "saturated" and any("CPU-bound" in r for r in verdict["reasons"])
    feed.event("t", "peers_lost", 13_000, {"count": 2})
    assert feed.verdict("t")["peersLost"] == 2
    feed.sample("t", now_ms=13_100)
    feed.sample("t", now_ms=13_900)
    feed.sample("t", now_ms=14_100)
    assert [s["t"] for s in feed.history("t")] == [12, 13, 14]
    assert LiveFeed().verdict("new")["harness"] == "unknown"


def test_the_live_verdict_is_the_summarys_verdict() -> None:
    for scenario in (
        Scenario(windows=20),
        Scenario(windows=20, host_cpu=97.0),
        Scenario(windows=30, burst_windows=ROUNDS, activity=PINGS),
    ):
        rows = scenario.rows()
        live = _feed(rows).verdict("t")
        final = summary(scenario.frame(), keep_last=True).verdict
        assert live["harness"] == str(final.status)
        assert live["reasons"] == final.reasons
        assert live["evidence"][:-1] == final.evidence[:-1]  # the last line: the failures each side knows of


def test_harness_errors_count_for_the_live_verdict() -> None:
    rows = Scenario(windows=10).rows()
    rows[-1]["harnessErrors"] = 2
    verdict = _feed(rows).verdict("t")
    assert verdict["harness"] == "faulty" and "2 harness errors" in verdict["reasons"][0]


def test_the_results_service_judges_without_loading_pandas() -> None:
    code = "import sys, peerperf.results.livefeed; assert 'pandas' not in sys.modules, 'pandas was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_active_peers_and_the_stages_target_come_from_the_last_window_every_host_submitted() -> None:
    feed = LiveFeed()
    feed.datapoints("t", [_point(p, 2_000, "h1", window=1, stageTarget=1.5, stage=1) for p in ("a", "b")])
    feed.datapoints("t", [_point(p, 4_000, "h1", window=2, stageTarget=3.0, stage=1) for p in ("a", "b", "c")])
    feed.datapoints("t", [_point("a", 6_000, "h1", window=3, stageTarget=3.0, stage=2)])  # h2 has not submitted 3
    sample = feed.sample("t", now_ms=6_000)
    assert (sample["peersActive"], sample["peersTarget"]) == (3, 3.0), "window 2: complete"
    plain = LiveFeed()
    plain.datapoints("t", [_point("a", 2_000, "h1", window=1)])
    assert (plain.sample("t", now_ms=2_000)["peersActive"], plain.sample("t")["peersTarget"]) == (1, None)
