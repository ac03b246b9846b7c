"""Measured layers made up from a known cost, and a calibration of them, for tests that must not run peers."""

from __future__ import annotations

from peerperf.peer.settings import PeerSettings
from peerperf.sizing import peer_settings_json
from peerperf.sizing.calibration import Calibration, Machine
from peerperf.sizing.cost_model import CostModel, fit
from peerperf.sizing.layer_measurement import LayerMeasurement

#: 2 % of a core per process, 0.5 % per peer, 150 us per received packet.
TRUE_COST = CostModel(per_process=0.02, per_peer=0.005, per_packet=150e-6)


def layer(
    size: int,
    received: float,
    cost: CostModel = TRUE_COST,
    healthy: bool = True,
    noise: float = 0.0,
    layers: int = 1,
) -> LayerMeasurement:
    """`layers` layers of `size` in one process, costing `cost` (times 1 + `noise`)."""
    cores = cost.host_cores(size * layers, received) * (1 + noise)
    relayed = received * 0.3
    return LayerMeasurement(
        layer_size=size,
        seconds=20.0,
        cpu_percent=cores * 100,
        received=received,
        sent=received - relayed,
        relayed=relayed,
        originated=11.1,
        unique=(size - 1) * 11.1,
        connections=min(size - 1, 6),
        loss=0.0 if healthy else 0.01,
        tick_lag_p99_ms=2.0 if healthy else 80.0,
        harness="healthy" if healthy else "saturated",
        reasons=[] if healthy else ["the tick loop ran late"],
        machine_load=1.0,
        layers=layers,
    )


LAYERS = [
    layer(2, 12.0),
    layer(4, 36.0, noise=0.03),
    layer(6, 70.0, noise=-0.02),
    layer(8, 125.0),
    layer(10, 330.0, healthy=False),
]


def calibration(layers: list[LayerMeasurement] | None = None, cores: int = 2) -> Calibration:
    layers = LAYERS if layers is None else layers
    return Calibration(
        Machine("Test CPU @ 3 GHz", cores, "Linux-test"),
        {"python": "3.11", "peerperf": "0.1.0", "aiortc": "1.16.0"},
        "2026-12-01T00:00:00Z",
        "default",
        peer_settings_json.to_json(PeerSettings(ping_interval=0.009), secrets=False),
        2.0,
        30.0,
        layers,
        fit([m for m in layers if m.healthy]),
        "test calibration",
    )
