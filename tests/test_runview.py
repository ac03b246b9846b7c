"""The end-of-run verdict names the harness as the bottleneck when it was."""

from __future__ import annotations

import io

import pandas as pd
from rich.console import Console

from analysis.summary import summarize
from peerperf.cluster.orchestrator import RunOutcome
from peerperf.runview import RunView


def frame(lag_ms: float, cpu: float) -> pd.DataFrame:
    rows = [
        {
            "peerId": f"p{i % 2}",
            "timestamp": i,
            "connectedPeers": ["x"],
            "originatedPerSecond": 11.1,
            "sentPerSecond": 11.1,
            "receivedPerSecond": 11.1,
            "relevantPerSecond": 11.1,
            "relayedPerSecond": 0.0,
            "duplicatePerSecond": 0.0,
            "expiredPerSecond": 0.0,
            "receivedBytesPerSecond": 1000.0,
            "tickLagP99": lag_ms,
            "ticksMissed": 0,
            "hostCpuPercent": cpu,
        }
        for i in range(10)
    ]
    return pd.DataFrame(rows)


def verdict(data: pd.DataFrame) -> str:
    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=200))
    view.outcome(RunOutcome(test_id="t", ok=True), summarize(data))
    return out.getvalue()


def test_a_healthy_run_says_so() -> None:
    text = verdict(frame(lag_ms=3.0, cpu=20.0))
    assert "harness check: ok" in text and "SATURATED" not in text


def test_late_ticks_or_busy_hosts_are_called_out() -> None:
    late = verdict(frame(lag_ms=80.0, cpu=20.0))
    assert "harness check: HARNESS SATURATED" in late and "tick loop late" in late
    busy = verdict(frame(lag_ms=3.0, cpu=99.0))
    assert "harness check: HARNESS SATURATED" in busy and "CPU-bound" in busy


def test_routine_errors_are_shown_while_running() -> None:
    from peerperf.cluster.orchestrator import RunSnapshot

    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=300))
    view.update(RunSnapshot("running", 2, 2, 0, 1, 5.0, 10.0, routine_errors=7))
    assert "ROUTINE ERRORS 7" in out.getvalue()
