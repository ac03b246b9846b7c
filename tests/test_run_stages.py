"""`python -m peerperf.run --stages --churn` on the real stack: peers join and leave during the test
through the embedded lighthouse (local Ray, aiortc on loopback), and the datapoints follow the plan
exactly.

One run serves every test of the module. Its stages and churn put every join and leave 1 s from a
window edge (2 s windows), so which windows each instance reports is exact: joins at 1, 3, 5, 7 s;
at 19 s churn replaces the oldest instance (slot 0) with a new one; leaves at 21 and 23 s; 24 s in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from peerperf.sim.churn import parse_churn, with_churn
from peerperf.sim.stages import StagePlan, parse_stages
from tests.analysis.svg import MeshShapes
from tests.browser import render
from tests.runcli import results_document

STAGES = "1s:1,6s:4,12s:4,4s:2,1s:2"
#: 4 peers for 12 s of the hold: one replacement, due at 19 s.
CHURN = "100%/min"
WINDOW = 2.0


@dataclass(frozen=True)
class StagedRun:
    frame: pd.DataFrame
    document: dict[str, Any]
    summary: dict[str, Any]
    output: str
    plan: StagePlan
    #: The run's HTML report (`--report`).
    report: str
    #: The run's results folder (`--output`).
    out: Path


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> StagedRun:
    folder = tmp_path_factory.mktemp("staged")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    args = ["--stages", STAGES, "--churn", CHURN, "--peers-per-actor", "2", "--ping-interval", "off", "--seed", "24"]
    args += ["--output", str(folder / "out"), "--summary-json", str(folder / "summary.json"), "--plain"]
    args += ["--allow-unhealthy", "--report", str(folder / "report.html")]
    args += ["--assert", "stage:3.delivery>=0.9", "--assert", "stage:9.delivery>=0.9"]
    done = subprocess.run(
        [sys.executable, "-m", "peerperf.run", *args], env=env, capture_output=True, text=True, timeout=240
    )
    output = done.stdout + done.stderr
    document = results_document(folder / "out")
    frame = pd.DataFrame([{"peerId": p["peerId"], **p["metrics"]} for p in document["dataPoints"]])
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").exists() else {}
    plan = with_churn(parse_stages(STAGES), parse_churn(CHURN))
    report = (folder / "report.html").read_text() if (folder / "report.html").exists() else ""
    return StagedRun(frame, document, summary, output + f"\nexit code {done.returncode}", plan, report, folder / "out")


def test_the_run_follows_the_plan_and_records_it(staged: StagedRun) -> None:
    assert "exit code 1" in staged.output, "the assertion on a stage that does not exist fails the run"
    assert "stage:9.delivery" in staged.output and "no stage 9" in staged.output, staged.output[-3000:]
    metadata = staged.document["metadata"]
    assert metadata["stagePlan"] == staged.plan.to_json()
    assert metadata["settings"]["peers"] == 4 and metadata["settings"]["duration"] == 24
    ids = metadata["peerIds"]  # in join order: slots 0, 1, 2, 3, then slot 0's second instance
    assert len(ids) == 5 and ids[4] == f"{ids[0]}-s2"
    assert metadata["departedPeers"] == [ids[0], ids[2], ids[3]]
    assert "active 4 target 4 of 4" in staged.output, "the live view shows active vs target"
    # Stages 2-5 have windows: two of them orange on each of the seven plots over time (the six of the
    # datapoints and the mesh's connections per peer).
    assert "Stages: active peers per window" in staged.report and staged.report.count("fill: #f9ab00") == 14


def test_each_window_is_reported_by_exactly_the_instances_active_in_it(staged: StagedRun) -> None:
    frame, plan, ids = staged.frame, staged.plan, staged.document["metadata"]["peerIds"]
    assert frame.groupby(["peerId", "window"]).size().max() == 1, "one datapoint per instance and window"
    reported = frame.groupby("window")["peerId"].agg(set).to_dict()
    last = max(reported)
    assert last in (12, 13), "the test is 12 windows long (the last one may be a sliver past its end)"
    for window in range(1, last + 1):
        active = plan.active_in((window - 1) * WINDOW, window * WINDOW)
        expected = {ids[plan.sessions.index(s)] for s in active}
        assert reported.get(window, set()) == expected, f"window {window}"
    counts = [len(reported.get(w, set())) for w in range(1, 13)]
    assert counts == [1, 2, 3, 4, 4, 4, 4, 4, 4, 5, 4, 3], "window 10 holds slot 0's old and new instance"


def test_departed_instances_reports_end_when_they_leave_and_replacements_begin(staged: StagedRun) -> None:
    frame, ids = staged.frame, staged.document["metadata"]["peerIds"]
    first, last = frame.groupby("peerId")["window"].min(), frame.groupby("peerId")["window"].max()
    assert last[ids[3]] == 11 and last[ids[2]] == 12, "left at 21 s and 23 s: windows 11 and 12 are their last"
    assert last[ids[0]] == 10 and first[ids[4]] == 10, "replaced at 19 s: the old ends and the new begins in 10"
    assert set(staged.document["results"]) == set(ids), "the departed submitted their final results too"


def test_every_datapoint_carries_the_stage_its_window_closed_in(staged: StagedRun) -> None:
    frame, plan = staged.frame, staged.plan
    expected = frame["window"].map(lambda w: plan.stage_at(w * WINDOW))
    assert (frame["stage"] == expected).all()
    assert sorted(frame["stage"].unique()) == [2, 3, 4, 5], "no peer is active in stage 1's only window"


def test_delivery_is_exact_no_loss_for_peers_not_yet_joined_or_gone(staged: StagedRun) -> None:
    metrics = staged.summary["metrics"]
    # A peer counted as a receiver before it joined or after it left would miss every packet of those
    # windows: delivery would fall by a quarter or more.
    assert metrics["delivery"] >= 0.97, metrics
    assert metrics["peers.dropped_out"] == 0 and metrics["peers.never_reported"] == 0
    assert metrics["delivery.windows"] >= 4


def test_each_instance_reports_its_lighthouse_join_once(staged: StagedRun) -> None:
    frame = staged.frame
    joins = frame[frame["joinMs"].notna()] if "joinMs" in frame else frame.iloc[0:0]
    assert sorted(joins["peerId"]) == sorted(staged.document["metadata"]["peerIds"]), "one join each"
    first = frame.groupby("peerId")["window"].min()
    assert all(first[row.peerId] == row.window for row in joins.itertuples()), "with the instance's first window"
    assert 0 < staged.summary["metrics"]["join.p50"] <= staged.summary["metrics"]["join.p99"] < 5000


@pytest.mark.browser
def test_the_report_draws_the_mesh_as_the_lighthouse_reported_it(staged: StagedRun, tmp_path: Path) -> None:
    from peerperf.analysis.cli import main
    from peerperf.analysis.results_files import results_files

    # (peers, connections) of each topology sample the run stored, counted here from the lighthouse's lists.
    sampled = []
    for point in staged.document["topologyDataPoints"]:
        listed = {entry["id"]: entry["connectedPeerIds"] for entry in point["topology"]}
        edges = {frozenset((a, b)) for a, others in listed.items() for b in others if b in listed and b != a}
        if listed:
            sampled.append((len(listed), len(edges)))
    assert 3 <= len(sampled) <= 6, "a 24 s run sampled every 5 s"
    shapes = MeshShapes(staged.report)
    drawn = [shapes.count(n) for n in range(1, shapes.pictures() + 1)]
    assert drawn == sampled, "six pictures at most: every sample of a run this short is drawn"
    assert "Connections per peer as the lighthouse saw them" in staged.report
    # `peerperf report` finds the topology beside the results file and draws the same; Chromium shows it.
    (parquet,) = results_files(staged.out)
    assert main(["report", str(parquet), "-o", str(tmp_path / "again.html")]) == 0
    page = render((tmp_path / "again.html").as_uri(), tmp_path / "profile")
    assert page.console == [] and not page.looks_blank()
    again = MeshShapes(page.dom)
    assert [again.count(n) for n in range(1, again.pictures() + 1)] == drawn


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stages", "10s:4", "--peers", "2"], "--stages reaches 4 active peers, above --peers 2"),
        (["--stages", "10s:4,1x:2"], "duration '1x' in '1x:2'"),
        (["--stages", "10s:4", "--duration", "30"], "--duration 30 s differs from the stages' sum 10 s"),
        (["--churn", "150%/min"], "above 100%/min"),
        (["--session-length", "normal:5m"], "expected exp:MEAN, fixed:LENGTH or uniform:LOW-HIGH"),
        (["--routine", "roam?period=4-2"], "0 < LOW <= HIGH"),
    ],
)
def test_bad_stages_exit_2_before_anything_starts(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from peerperf.run import main

    assert main([*args, "--output", "/nonexistent/never-written"]) == 2
    assert message in capsys.readouterr().err
