"""The harness verdict's rules: evidence for every host window, the harness's own failures, bursts vs saturation."""

from __future__ import annotations

import math

import pytest

from peerperf.analysis.assertions import check, parse
from peerperf.analysis.host_windows import from_records
from peerperf.analysis.summarise import summary
from peerperf.analysis.verdict import RunFacts, Status, judge
from tests.analysis.fixtures import Scenario

#: Ping rounds every ~7 s in 2 s windows: late windows 3 or 4 apart, as ten lockstep peers produce them.
ROUNDS = frozenset(round(3 + 3.5 * k) for k in range(8))
PINGS = {w: {"ping": 40, "pong": 360} for w in ROUNDS}


def test_cpu_evidence_of_one_host_window_does_not_make_a_run_healthy() -> None:
    frame = Scenario(windows=10).frame()
    frame.loc[frame["window"] != 5, "hostCpuPercent"] = math.nan
    result = summary(frame)
    assert result.verdict.status is Status.UNKNOWN
    assert "host CPU of 12 of 14 host windows" in result.verdict.reasons[0]
    frame["tickLagMs"] = [[] if w == 4 else lag for w, lag in zip(frame["window"], frame["tickLagMs"], strict=True)]
    frame.loc[frame["window"] == 4, "tickLagP99"] = math.nan
    assert "tick lag of 2 of 14" in summary(frame).verdict.reasons[0]


@pytest.mark.parametrize(
    ("metadata", "column", "line"),
    [
        ({}, "harnessErrors", "1 harness errors"),
        ({"lostPeers": {"p": "its host failed"}}, None, "1 peers lost when their host failed"),
        ({"rejectedDatapoints": 3}, None, "3 datapoints refused"),
        ({"peerIds": ["fixture-peer-0", "never-came"]}, None, "1 peers that never reported"),
        ({"restartedPeers": {"fixture-peer-1": "fixture-peer-1-r1"}}, None, "1 peers restarted when their host failed"),
    ],
)
def test_the_harness_own_failures_make_it_faulty_with_their_evidence(
    metadata: dict[str, object], column: str | None, line: str
) -> None:
    frame = Scenario().frame()
    frame["harnessErrors"] = 0
    if column:
        frame.loc[frame.index[5], column] = 1
    result = summary(frame, metadata=metadata)
    assert result.verdict.status is Status.FAULTY, result.verdict
    assert any(line in reason for reason in result.verdict.reasons)
    assert summary(Scenario().frame().assign(harnessErrors=0)).verdict.status is Status.HEALTHY


def test_a_peer_that_stopped_reporting_makes_it_faulty() -> None:
    frame = Scenario(windows=10).frame()
    frame = frame[~((frame["peerId"] == "fixture-peer-3") & (frame["window"] > 4))]
    result = summary(frame)
    assert result["peers.dropped_out"] == 1
    assert result.verdict.status is Status.FAULTY
    assert "1 peers that stopped reporting early" in result.verdict.reasons
    restarted = summary(frame, metadata={"restartedPeers": {"fixture-peer-3": "fixture-peer-3-r1"}})
    assert restarted["peers.dropped_out"] == 0 and restarted["peers.restarted"] == 1  # explained, not a drop-out
    assert restarted.verdict.status is Status.FAULTY


def test_periodic_bursts_are_told_apart_from_saturation_with_their_period_and_what_coincided() -> None:
    result = summary(Scenario(windows=30, burst_windows=ROUNDS, activity=PINGS).frame())
    verdict = result.verdict
    assert verdict.status is Status.BURSTS, verdict
    assert verdict.bursts is not None and verdict.bursts.regular
    assert verdict.bursts.period_s == pytest.approx(7.0, abs=0.3)
    assert verdict.bursts.together == 1.0
    assert any("ping rounds" in c for c in verdict.bursts.coincided)
    assert not any("position" in c for c in verdict.bursts.coincided)  # as many positions in every window
    assert any("in bursts only" in r for r in verdict.reasons)
    assert not check(result, [parse("harness==healthy")])[0].passed  # bursts still distort latency: not healthy


def test_lag_in_most_windows_is_saturation() -> None:
    result = summary(Scenario(windows=30, burst_windows=frozenset(range(1, 31)) - ROUNDS).frame())
    assert result.verdict.status is Status.SATURATED
    assert any(r.startswith("sustained:") and "late in most of their windows" in r for r in result.verdict.reasons)


def test_bursts_on_cpu_bound_hosts_are_saturation() -> None:
    result = summary(Scenario(windows=30, burst_windows=ROUNDS, host_cpu=95.0).frame())
    assert result.verdict.status is Status.SATURATED
    assert "sustained: CPU-bound" in result.verdict.reasons


def test_a_few_late_windows_within_the_run_limits_stay_healthy_and_are_shown() -> None:
    result = summary(Scenario(windows=30, burst_windows=frozenset({12})).frame())
    assert result.verdict.status is Status.HEALTHY
    assert any(line.startswith("late windows: 2 of 54 host windows") for line in result.verdict.evidence)


def test_no_host_windows_is_unknown_or_faulty_never_healthy() -> None:
    assert judge(from_records([])).status is Status.UNKNOWN
    assert judge(from_records([]), RunFacts(peers_lost=2)).status is Status.FAULTY
