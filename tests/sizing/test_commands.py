"""`peerperf plan` and `peerperf calibrate` from the command line: what they print, their exit codes, and bad input
refused with a clear message before anything runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from peerperf.cli import main
from tests.sizing.fixtures import calibration


@pytest.fixture
def calibration_path(tmp_path: Path) -> Path:
    path = tmp_path / "calibration.json"
    calibration().save(path)
    return path


def test_plan_prints_nodes_vcpus_and_the_peer_slot(calibration_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--peers", "1000", "--layer-size", "8", "--node-cpus", "16", "--calibration", str(calibration_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    found = re.search(r"peers per node: (\d+); nodes: (\d+); vCPUs: (\d+)", out)
    assert found, out
    per_node, nodes, vcpus = (int(g) for g in found.groups())
    assert nodes == -(-1000 // per_node) and vcpus == nodes * 16
    assert out.rstrip().splitlines()[-1] == f"cluster.yaml: peer_slot: {per_node}"
    assert "calibration: " + str(calibration_path) in out and "default calibration" not in out


def test_plan_as_json(calibration_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--peers", "40", "--layer-size", "8", "--calibration", str(calibration_path), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["request"] == {"peers": 40, "layer_size": 8, "node_cpus": 2, "utilisation": 0.6}  # the machine's cores
    assert plan["packets"]["received"] > 0 and plan["nodes"] >= 1 and plan["peer_slot"] == plan["peers_per_node"]


def test_plan_of_a_mixed_population_adds_browser_nodes(
    calibration_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "--peers", "40", "--layer-size", "8", "--calibration", str(calibration_path), "--node-cpus", "16"]
    assert main([*args, "--browser-peers", "25", "--pages-per-browser", "5"]) == 0
    out = capsys.readouterr().out
    assert "measured: bench/results/browser_cost.json" in out and "--browser-peers 25 --pages-per-browser 5" in out
    found = re.search(r"pages per browser node: (\d+); browser nodes: (\d+)", out)
    assert found and int(found[1]) % 5 == 0 and int(found[2]) == -(-25 // int(found[1])), out
    assert out.rstrip().splitlines()[-1] == f"cluster.yaml (browser nodes): browser_slot: {found[1]}"
    assert main([*args, "--browser-peers", "25", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["browser"]["browser_slot"] == plan["browser"]["pages_per_node"] and plan["browser"]["browsers"] == 3


def test_plan_without_a_calibration_says_it_uses_the_shipped_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--peers", "16", "--layer-size", "4"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("no --calibration given: using peerperf's default calibration")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer-size", "1"], "--layer-size must be at least 2"),
        (["--peers", "0"], "--peers must be at least 1"),
        (["--utilisation", "1.5"], "--utilisation must be in (0, 1]"),
        (["--node-cpus", "many"], "--node-cpus: expected int"),
        (["--calibration", "/nonexistent/calibration.json"], "cannot read calibration /nonexistent/calibration.json"),
        (["--browser-peers", "-2"], "--browser-peers must not be negative"),
        (["--browser-peers", "2", "--pages-per-browser", "0"], "--pages-per-browser must be at least 1"),
    ],
)
def test_plan_refuses_bad_input(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--layer-size", "8", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "2,four,6"], "--sizes: expected comma-separated integers"),
        (["--sizes", "2,4"], "at least 3 different layer sizes"),
        (["--seconds", "5"], "no steady window"),
        (["--ping-interval", "soon"], "--ping-interval: expected float"),
        (["--routine", "no_such_routine"], "routine 'no_such_routine': cannot import"),
    ],
)
def test_calibrate_refuses_bad_input_before_measuring(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", "--output", str(tmp_path / "c.json"), *args]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "c.json").exists()
