"""The placement check: silent when a node holds the run's peers, a warning naming the numbers when it does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from peerperf.peer.settings import PeerSettings
from peerperf.sizing.placement_check import NodeLoad, placement_warning
from tests.sizing.fixtures import calibration

PINGING = PeerSettings(ping_interval=0.009)


def load(peers: int, layer_size: int = 8, cpus: int = 2, per_actor: int = 1) -> NodeLoad:
    return NodeLoad(peers, cpus, layer_size, per_actor, "default", PINGING)


def test_a_node_that_holds_its_peers_gets_no_warning() -> None:
    assert placement_warning(load(8), calibration()) is None


def test_an_overloaded_node_is_named_with_its_numbers() -> None:
    warning = placement_warning(load(60), calibration())
    assert warning is not None
    held = re.search(r"60 peers per node, but a node of 2 CPUs holds (\d+) healthy at 8-peer layers", warning)
    assert held and 0 < int(held[1]) < 60, warning
    assert "calibration: test calibration" in warning and "HARNESS SATURATED" in warning
    assert "peerperf plan --peers 60 --layer-size 8" in warning


def test_a_layer_no_host_can_carry_is_said_so() -> None:
    warning = placement_warning(load(24, layer_size=24, cpus=16), calibration())
    assert warning is not None and "holds no peer healthy at 24-peer layers" in warning


def test_an_unreadable_calibration_is_said_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERPERF_CALIBRATION", str(tmp_path / "missing.json"))
    warning = placement_warning(load(8))
    assert warning is not None and warning.startswith("placement not checked: cannot read calibration")
