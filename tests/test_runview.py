"""The end-of-run verdict names the harness as the bottleneck when it was."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from rich.console import Console

from peerperf.analysis.summarise import summary
from peerperf.run_state import RunOutcome
from peerperf.runview import RunView
from tests.analysis.fixtures import Scenario


def verdict(data: pd.DataFrame) -> str:
    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=200))
    view.outcome(RunOutcome(test_id="t", ok=True), summary(data))
    return out.getvalue()


def test_a_healthy_run_says_so_with_its_evidence() -> None:
    text = verdict(Scenario(tick_lag_ms=3.0, host_cpu=20.0).frame())
    assert "harness check: ok" in text and "SATURATED" not in text
    assert "evidence: tick lag p99" in text
    assert "delivery ratio" in text and "latency position p99" in text


def test_late_ticks_or_busy_hosts_are_called_out() -> None:
    late = verdict(Scenario(tick_lag_ms=80.0, host_cpu=20.0).frame())
    assert "harness check: HARNESS SATURATED" in late and "tick loop ran late" in late
    busy = verdict(Scenario(tick_lag_ms=3.0, host_cpu=99.0).frame())
    assert "harness check: HARNESS SATURATED" in busy and "CPU-bound" in busy


def test_without_evidence_the_verdict_is_unknown() -> None:
    text = verdict(Scenario(host_cpu=None).frame().drop(columns=["tickLagMs", "tickLagP99"]))
    assert "harness check: UNKNOWN" in text and "harness check: ok" not in text


def test_routine_errors_are_shown_while_running() -> None:
    from peerperf.run_state import RunSnapshot

    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=300))
    view.update(RunSnapshot("running", 2, 2, 0, 1, 5.0, 10.0, routine_errors=7))
    assert "ROUTINE ERRORS 7" in out.getvalue()


def test_harness_errors_are_shown_while_running() -> None:
    from peerperf.run_state import RunSnapshot

    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=300))
    view.update(RunSnapshot("running", 2, 2, 0, 1, 5.0, 10.0, harness_errors=3, log_dir="/tmp/logs"))
    assert "HARNESS ERRORS 3 (see the peer hosts' logs, /tmp/logs/worker-*.err)" in out.getvalue()


def test_a_test_without_datapoints_is_said_not_a_crash() -> None:
    import pandas as pd

    from peerperf.analysis.summarise import summary
    from peerperf.run_state import RunOutcome

    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=300))
    view.outcome(RunOutcome(test_id="empty", ok=True), summary(pd.DataFrame()))
    assert "test empty: its files hold no datapoints" in out.getvalue()


def test_the_live_page_and_the_relay_are_shown_and_lost_points_are_never_silent() -> None:
    from peerperf.results.influx.relay_stats import RelayStats
    from peerperf.run_state import RunSnapshot

    relay = RelayStats("http://db:8086/write?db=comms", 90, 4, 7, 3, "ClientConnectorError [Connect call failed]")
    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=300))
    view.update(RunSnapshot("running", 2, 2, 0, 1, 5.0, 10.0, live_url="http://127.0.0.1:9/", relay=relay))
    view.update(RunSnapshot("running", 2, 2, 0, 1, 6.0, 10.0, live_url="http://127.0.0.1:9/", relay=relay))
    view.outcome(RunOutcome(test_id="t", ok=True, relay=relay), None)
    text = out.getvalue()
    assert text.count("live page: http://127.0.0.1:9/") == 1  # printed once, at start
    assert "influx: 90 points written, 4 delayed, 10 not relayed (3 pending)" in text
    assert "InfluxDB relay to http://db:8086/write?db=comms: 90 points written" in text
    assert "last error: ClientConnectorError [Connect call failed]" in text  # brackets are text, not markup


def test_the_harness_so_far_is_judged_from_every_host_window_like_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    from peerperf.run_state import RunSnapshot

    monkeypatch.setattr("peerperf.runview.PLAIN_EVERY", 0.0)  # a line for every snapshot
    out = io.StringIO()
    view = RunView(plain=True, console=Console(file=out, width=400))
    rows = Scenario(windows=8, host_cpu=97.0).rows()
    windows = {(r["hostId"], r["window"]): r for r in rows}  # a host's fields repeat on each of its peers' rows
    for window in range(1, 9):
        fields = tuple(r for (_, w), r in windows.items() if w == window)
        view.update(RunSnapshot("running", 4, 4, 0, 1, 2.0 * window, 20.0, host_windows=fields))
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(
        "harness so far: unknown (no host windows: no evidence of the harness's health)"
    )  # warm-up
    assert lines[-1].endswith("harness so far: saturated (host processes were CPU-bound in 100% of host windows)")
    assert view.harness(RunSnapshot("running", 4, 4, 0, 1, 18.0, 20.0)).status == "saturated"  # type: ignore[union-attr]
    first = RunView(plain=True, console=Console(file=io.StringIO(), width=400))
    assert first.harness(RunSnapshot("running", 4, 4, 0, 1, 1.0, 20.0)) is None


def test_bursts_and_faults_are_named_at_the_end() -> None:
    from tests.analysis.test_verdict import PINGS, ROUNDS

    bursts = verdict(Scenario(windows=30, burst_windows=ROUNDS, activity=PINGS).frame())
    assert "harness check: BURSTS" in bursts and "ping rounds" in bursts
    faulty = Scenario().frame().assign(harnessErrors=1)
    assert "harness check: HARNESS FAULTY" in verdict(faulty)
