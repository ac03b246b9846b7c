"""The summary on hand-built datapoints where every right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from peerperf.analysis.summarise import summary
from peerperf.analysis.verdict import Status
from peerperf.protocol.histogram import Histogram
from tests.analysis.fixtures import Scenario


def test_everything_delivered() -> None:
    result = summary(Scenario().frame())
    assert result["delivery"] == 1.0
    assert result["delivery.position"] == 1.0
    assert result["loss"] == 0.0
    assert result["peers"] == 4
    assert result["connections"] == 2.0
    # 8 windows of 2 s: the first two are warm-up, the last is partial.
    assert result.steady_state.warmup_windows == 2
    assert result.steady_state.windows == 5


def test_loss_and_delivery_are_exact() -> None:
    # Peer 0 never got 10 % of the others' packets: 6 of 60 per window.
    result = summary(Scenario(lost={0: 0.1}).frame())
    expected = 1 - 6 / (4 * 60)
    assert result["delivery"] == pytest.approx(expected)
    assert result["delivery.position"] == pytest.approx(expected)
    assert result["loss"] == pytest.approx(6 / (4 * 60))


def test_latency_percentiles_come_from_merged_histograms() -> None:
    # Peer 0 is fast, peer 1 is slow: averaging their p99s would say ~50 ms; the merged p99 is 100 ms.
    latencies = {0: [1.0] * 99 + [2.0], 1: [50.0] * 98 + [100.0] * 2, 2: [1.0], 3: [1.0]}
    result = summary(Scenario(latency_ms=latencies, positions=100).frame())
    merged = Histogram()
    for index in range(4):
        values = latencies[index]
        for k in range(300):
            merged.record(values[k % len(values)])
    assert result["latency.position.p99"] == merged.percentile(99)
    assert result["latency.position.p50"] == merged.percentile(50)
    true_p99 = float(
        np.percentile([v for i in range(4) for k in range(300) for v in [latencies[i][k % len(latencies[i])]]], 99)
    )
    assert result["latency.position.p99"] == pytest.approx(true_p99, rel=0.045)


def test_hops_and_throughput() -> None:
    result = summary(Scenario().frame())
    assert result["hops.mean"] == 1.5  # half the peers' packets took 1 hop, half 2
    assert result["throughput.originated"] == 10.0


def test_a_light_run_is_healthy_with_evidence() -> None:
    result = summary(Scenario().frame())
    assert result.verdict.status is Status.HEALTHY
    assert result["harness"] == "healthy"
    assert any("tick lag p99" in line for line in result.verdict.evidence)


def test_late_ticks_make_it_saturated() -> None:
    result = summary(Scenario(tick_lag_ms=50.0).frame())
    assert result.verdict.status is Status.SATURATED
    assert "tick loop ran late" in result.verdict.reasons[0]


def test_host_figures_count_once_per_host_window() -> None:
    # 10 skipped ticks per host window: 2 hosts x 5 steady windows = 100, not 4 peers x 5 x 10 = 200.
    result = summary(Scenario(ticks_missed=10).frame())
    assert result.verdict.figures["ticksMissed"] == 100


def test_missing_health_evidence_is_unknown_not_ok() -> None:
    frame = Scenario(host_cpu=None).frame().drop(columns=["tickLagMs", "tickLagP99"])
    result = summary(frame)
    assert result.verdict.status is Status.UNKNOWN
    nan_cpu = Scenario().frame().assign(hostCpuPercent=math.nan, tickLagMs=[[] for _ in range(32)])
    assert summary(nan_cpu.drop(columns=["tickLagP99"])).verdict.status is Status.UNKNOWN


def test_no_datapoints_is_unknown() -> None:
    result = summary(Scenario().frame().iloc[0:0])
    assert result.verdict.status is Status.UNKNOWN
    assert result.get("delivery") is None


def test_harness_errors_count_each_peer_and_each_host_window_once() -> None:
    frame = Scenario().frame()
    frame["harnessErrors"] = 0
    frame.loc[frame.index[:3], "harnessErrors"] = 1
    frame["hostHarnessErrors"] = 0
    first = frame.index[(frame["window"] == frame["window"].max()) & (frame["hostId"] == frame["hostId"].iloc[0])]
    frame.loc[first, "hostHarnessErrors"] = 2  # a host field: the same on each of its peers' datapoints
    assert summary(frame)["harness.errors"] == 3 + 2


@pytest.mark.parametrize(
    ("asked", "ran", "warned"),
    [
        ("python-fast", "stock", True),
        ("compiled", "python-fast", True),
        ("python-fast", "python-fast", False),
        ("compiled", "compiled", False),
        ("stock", "stock", False),
        (None, None, False),
    ],
)
def test_a_run_that_fell_back_to_the_stock_data_path_says_so(asked: str | None, ran: str | None, warned: bool) -> None:
    settings = {} if asked is None else {"data_path": asked, "data_path_ran": ran}
    notes = summary(Scenario().frame(), metadata={"settings": settings}).notes
    fell_back = [n for n in notes if "data path" in n]
    assert bool(fell_back) is warned, notes
    if warned:
        assert f"ran the {ran} data path, not {asked}" in fell_back[0]


def test_a_link_listed_as_connected_that_delivered_nothing_is_a_warning() -> None:
    frame = Scenario().frame()
    frame["silentLinks"] = [[] for _ in range(len(frame))]
    assert not [n for n in summary(frame).notes if "delivered nothing" in n], "no silent link, no warning"
    receiver = str(frame["peerId"].iloc[2])
    silent = [np.array(["source-peer-9"]) if i == 2 else np.array([]) for i in range(len(frame))]
    frame["silentLinks"] = silent  # as Parquet reads lists back
    notes = [n for n in summary(frame).notes if "delivered nothing" in n]
    assert len(notes) == 1, notes
    assert "1 link direction(s) delivered nothing for 5 s" in notes[0] and f"source-p -> {receiver[:8]}" in notes[0]
