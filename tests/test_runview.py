"""The end-of-run verdict names the harness as the bottleneck when it was."""

from __future__ import annotations

import io

import pandas as pd
from rich.console import Console

from peerperf.analysis.summary import summary
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

    from peerperf.analysis.summary import summary
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
