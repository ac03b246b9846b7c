"""A real packed layer (embedded lighthouse, aiortc on loopback, one process) measured by the analysis's code, in a
fresh process as `calibrate` runs it."""

from __future__ import annotations

import pytest

from peerperf.peer.settings import PeerSettings
from peerperf.sizing.calibrate import measure_in_child
from peerperf.sizing.packed_run import PackedLayer
from tests.statuses import FROM_LOAD_ALONE


def test_a_packed_layer_is_measured_in_its_own_process() -> None:
    layer = PackedLayer(3, "default", PeerSettings(ping_interval=0.009), None, seconds=12.0, stats_interval=1.0, seed=3)
    result = measure_in_child(layer)
    assert result.layer_size == 3 and result.seconds > 0
    assert result.originated >= 11.0  # 11.1 messages/s, plus pings and pongs
    assert result.unique == pytest.approx(2 * result.originated, rel=0.15)  # both others' packets, each once
    assert result.received == pytest.approx(result.sent + result.relayed, rel=0.1)  # the layer is closed
    assert 0 < result.cpu_percent < 100 and result.cpu_per_peer == result.cpu_percent / 100 / 3
    assert result.connections == pytest.approx(2.0, abs=0.2)  # a layer of 3: everyone to everyone
    assert result.harness in FROM_LOAD_ALONE and result.loss <= 0.01


def test_a_failing_layer_is_an_error_with_its_output() -> None:
    with pytest.raises(RuntimeError, match=r"(?s)the layer of 2 failed:.*routine 'no_such_routine'"):
        measure_in_child(PackedLayer(2, "no_such_routine", seconds=12.0))
