"""The verdict from real runs of `python -m peerperf.run`: figures, assertions, comparison, harness health.

Five short runs on local Ray, shared by the tests of this module: a baseline (seed 1) with passing
assertions and every output file, a repeat of it (same settings, same seed), one setting changed
(max connections 4 instead of 7) with an assertion that fails and its repeat, and a deliberately
overloaded run. Runs whose point is not the harness's health accept an unhealthy harness
(`--allow-unhealthy`): the shared machine's load is not what they test.

The baseline (whose delivery and latency figures are asserted) and the overloaded run (which must be
CPU-bound by its own routine alone) run on their own; the repeat and the two max-4 runs run side by
side between them: what is asserted of them (arrived <= expected per window, a failed assertion's exit
code, 7 vs 4 connections) is counted, not timed. Only how many windows they close depends on the
load (a stalled host closes fewer, longer ones), and the repeat's check allows for that.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from peerperf.analysis.comparison import WITHIN_RUN_ONLY, compare, compare_sides
from peerperf.analysis.prepared import prepare
from peerperf.analysis.results_files import load, metadata, results_files
from peerperf.analysis.summarise import summary
from peerperf.analysis.verdict import Status
from peerperf.peer.settings import PeerSettings
from tests.netwatch import loopback_only

RUN_TIMEOUT = 300


@dataclass(frozen=True)
class Finished:
    code: int
    output: str
    folder: Path

    @property
    def parquet(self) -> Path:
        (path,) = results_files(self.folder)  # {id}.parquet, not its siblings
        return path


def start(folder: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    """Start one run; its output goes to a log file beside `folder` (no pipe to fill while others run)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    command = [sys.executable, "-m", "peerperf.run", "--plain", "--output", str(folder), *args]
    log = folder.with_suffix(".log")
    with log.open("w") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True)
    return proc, folder


def finish(started: tuple[subprocess.Popen[str], Path]) -> Finished:
    proc, folder = started
    return Finished(proc.wait(timeout=RUN_TIMEOUT), folder.with_suffix(".log").read_text(), folder)


def run_together(*runs: tuple[Path, tuple[str, ...]]) -> list[Finished]:
    """Run these side by side; any still running when one fails to finish in time is killed."""
    started = [start(folder, *args) for folder, args in runs]
    try:
        return [finish(one) for one in started]
    finally:
        for proc, _ in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def run(folder: Path, *args: str) -> Finished:
    (finished,) = run_together((folder, args))
    return finished


LIGHT = ("--peers", "8", "--peers-per-actor", "4", "--duration", "20", "--ping-interval", "", "--allow-unhealthy")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finished]:
    root = tmp_path_factory.mktemp("verdicts")
    with loopback_only():
        baseline = run(
            root / "baseline",
            *LIGHT,
            "--seed",
            "1",
            "--assert",
            "delivery>=0.95",
            "--assert",
            "latency.position.p99<2s",
            "--assert",
            "harness!=unknown",
            "--junit-xml",
            str(root / "baseline.xml"),
            "--summary-json",
            str(root / "baseline.summary.json"),
            "--report",
            str(root / "baseline.html"),
        )
        repeat, fewer, fewer_again = run_together(
            (root / "repeat", (*LIGHT, "--seed", "1")),
            (root / "fewer", (*LIGHT, "--seed", "1", "--max-connections", "4", "--assert", "delivery>1.5")),
            (root / "fewer_again", (*LIGHT, "--seed", "1", "--max-connections", "4")),
        )
        overloaded = run(
            root / "overloaded", "--peers", "8", "--peers-per-actor", "8", "--duration", "12", "--routine", "busy"
        )
    return {
        "baseline": baseline,
        "repeat": repeat,
        "fewer": fewer,
        "fewer_again": fewer_again,
        "overloaded": overloaded,
        "root": Finished(0, "", root),
    }


def test_a_light_run_measures_delivery_latency_and_is_healthy(runs: dict[str, Finished]) -> None:
    baseline = runs["baseline"]
    assert baseline.code == 0, baseline.output
    for line in ("delivery ratio (layer, every packet)", "latency position p99", "assert ok: delivery>=0.95"):
        assert line in baseline.output
    result = summary(load(baseline.parquet))
    assert 0.99 <= float(result["delivery"]) <= 1.0
    assert float(result["loss"]) < 0.01
    for subtype in ("position", "profile", "chat"):
        assert 0.98 <= float(result[f"delivery.{subtype}"]) <= 1.0, subtype
        assert 0 < float(result[f"latency.{subtype}.p50"]) <= float(result[f"latency.{subtype}.p99"]) < 2000
    assert float(result["throughput.originated"]) == pytest.approx(11.1, rel=0.1)
    assert 1 <= float(result["hops.mean"]) < 4
    assert result["peers"] == 8 and result["peers.never_reported"] == 0
    assert float(result["setup.p50"]) > 0
    if result.verdict.status is not Status.HEALTHY:  # only when something else loaded the machine, and it says so
        assert "accepted (--allow-unhealthy)" in baseline.output, result.verdict
    assert any("tick lag p99" in line for line in result.verdict.evidence)


def test_two_quiet_runs_never_show_delivery_above_one(runs: dict[str, Finished]) -> None:
    # The repeat shares the machine with two other runs: its hosts may close fewer windows, each covering more.
    for name, fewest_windows in (("baseline", 5), ("repeat", 3)):
        prepared = prepare(load(runs[name].parquet))
        assert prepared.delivery is not None, name  # counted by origin window: the peers reported it
        per_window = prepared.delivery.per_window
        assert len(per_window) >= fewest_windows, (name, per_window)
        assert (per_window["arrived"] <= per_window["expected"]).all(), (name, per_window)
        for column in [c for c in prepared.samples.table if c.startswith("expected")]:
            arrived = prepared.samples.table[column.replace("expected", "arrived")].sum()
            assert arrived <= prepared.samples.table[column].sum(), (name, column)


def test_the_run_writes_junit_json_and_the_same_summary_as_the_analysis(runs: dict[str, Finished]) -> None:
    root = runs["root"].folder
    junit = ET.parse(root / "baseline.xml").getroot()
    assert junit.get("tests") == "3" and junit.get("failures") == "0"
    document = json.loads((root / "baseline.summary.json").read_text())
    assert [a["passed"] for a in document["assertions"]] == [True, True, True]
    again = summary(load(runs["baseline"].parquet)).to_dict()
    assert document["metrics"]["delivery"] == again["metrics"]["delivery"]
    assert document["harness"]["status"] == again["harness"]["status"]
    assert "<svg" in (root / "baseline.html").read_text()


def test_a_failed_assertion_fails_the_run(runs: dict[str, Finished]) -> None:
    fewer = runs["fewer"]
    assert fewer.code == 1, fewer.output
    assert "assert FAILED: delivery>1.5 FAILED" in fewer.output
    assert "done: test" in fewer.output  # the test itself completed and its files are written
    assert fewer.parquet.exists()


def test_compare_flags_a_changed_setting_across_repeats_and_not_a_repeat(runs: dict[str, Finished]) -> None:
    paths = {name: runs[name].parquet for name in ("baseline", "repeat", "fewer", "fewer_again")}
    frames = {name: load(path) for name, path in paths.items()}
    meta = {name: metadata(path) for name, path in paths.items()}
    one_each = compare([frames["baseline"], frames["repeat"]], ["baseline", "repeat"], resamples=500)
    assert one_each.notes == [WITHIN_RUN_ONLY]
    result = compare_sides(
        [[frames["baseline"], frames["repeat"]], [frames["fewer"], frames["fewer_again"]]],
        ["max 7", "max 4"],
        [[meta["baseline"], meta["repeat"]], [meta["fewer"], meta["fewer_again"]]],
        resamples=1000,
    )
    by_name = {d.name: d for d in result.differences}
    connections = by_name["connections"]
    assert connections.deltas[0] < -1 and connections.significant[0], connections
    assert result.settings["max_connections"] == [7, 4]
    peer_settings = {f.name for f in dataclasses.fields(PeerSettings)}
    assert [name for name in result.settings if name in peer_settings] == ["max_connections"]
    assert result.notes == [] and [len(r) for r in result.runs] == [2, 2]
    json_path = runs["root"].folder / "compare.json"
    command = [sys.executable, "-m", "peerperf.cli", "compare", "--baseline", str(paths["baseline"])]
    command += [str(paths["repeat"]), "--candidate", str(paths["fewer"]), str(paths["fewer_again"])]
    done = subprocess.run([*command, "--json", str(json_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(json_path.read_text())["sides"] == ["baseline", "candidate"]


def test_an_overloaded_run_exits_3_and_is_called_saturated(runs: dict[str, Finished]) -> None:
    overloaded = runs["overloaded"]
    assert overloaded.code == 3, overloaded.output
    assert "HARNESS SATURATED" in overloaded.output and "exit code 3" in overloaded.output, overloaded.output
    result = summary(load(overloaded.parquet))
    assert result.verdict.status is Status.SATURATED
    assert any("CPU-bound" in r or "sustained" in r for r in result.verdict.reasons), result.verdict


def test_the_analysis_cli_reads_a_results_folder(runs: dict[str, Finished]) -> None:
    folder = runs["baseline"].folder
    assert len(results_files(folder)) == 1
    env = {**os.environ}
    command = [sys.executable, "-m", "peerperf.cli"]
    ok = subprocess.run(
        [*command, "assert", str(folder), "--assert", "peers==8", "--allow-unhealthy"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failing = subprocess.run(
        [*command, "assert", str(folder), "--assert", "harness==saturated"], capture_output=True, text=True, env=env
    )
    assert failing.returncode == 1 and "FAILED" in failing.stdout
    overloaded = [*command, "assert", str(runs["overloaded"].folder), "--assert", "peers==8"]
    refused = subprocess.run(overloaded, capture_output=True, text=True, env=env)
    assert refused.returncode == 3 and "not healthy" in refused.stdout, refused.stdout + refused.stderr
    accepted = subprocess.run([*overloaded, "--allow-unhealthy"], capture_output=True, text=True, env=env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    frame = load(folder)
    assert isinstance(frame, pd.DataFrame) and set(frame["testId"]) == {runs["baseline"].parquet.stem}
