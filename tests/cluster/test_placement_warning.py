"""A run checks its placement before the peers start: more peers on a node than the calibration says it holds
is warned about in the progress view, naming the numbers, and the run goes on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from peerperf.cluster.placement import warn_if_overloaded
from peerperf.config import RunConfig
from peerperf.peer.settings import PeerSettings
from peerperf.sim.population import Population
from peerperf.sim.routines import parse_mix
from peerperf.sizing.cost_model import CostModel
from tests.runcli import Run
from tests.sizing.fixtures import calibration

#: A calibration whose peers each cost a whole core: no machine holds even two of them.
COSTLY = CostModel(per_process=0.0, per_peer=0.5, per_packet=0.0)


def calibration_file(tmp_path: Path, cost: CostModel | None = None) -> Path:
    made = calibration()
    if cost is not None:
        made = dataclasses.replace(made, fit=dataclasses.replace(made.fit, model=cost))
    path = tmp_path / "calibration.json"
    made.save(path)
    return path


@pytest.mark.parametrize(("peers", "warned"), [(4, False), (60, True)])
async def test_a_local_run_is_checked_against_this_machines_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, peers: int, warned: bool
) -> None:
    monkeypatch.setenv("PEERPERF_CALIBRATION", str(calibration_file(tmp_path)))
    monkeypatch.setattr("peerperf.cluster.placement.local_cpus", lambda: 2)
    config = RunConfig(peers=peers, layer_size=8, peer=PeerSettings(ping_interval=0.009))
    population = Population(peers, parse_mix(config.routine), layer_size=8)
    shown: list[str] = []
    await warn_if_overloaded(config, population, False, shown.append)
    if warned:
        assert len(shown) == 1 and shown[0].startswith(f"warning: {peers} peers per node, but a node of 2 CPUs")
        assert "at 8-peer layers" in shown[0]
    else:
        assert shown == []


async def test_a_real_run_shows_the_warning_before_its_peers_start_and_goes_on(tmp_path: Path) -> None:
    path = calibration_file(tmp_path, COSTLY)
    run = await Run.start(
        *("--peers", "3", "--peers-per-actor", "3", "--duration", "4", "--ping-interval", "off"),
        *("--output", str(tmp_path / "results")),
        env={"PEERPERF_CALIBRATION": str(path)},
    )
    line = await run.until("warning: 3 peers per node")
    assert "holds no peer healthy at 3-peer layers" in line and f"calibration: {path}" in line
    await run.until("peers ready")  # placement went ahead
    assert await run.finish() == 0, run.output
