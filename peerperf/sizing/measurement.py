"""A packed layer's measurement, read from its peers' own datapoints by the analysis's code.

Throughput, loss and the harness verdict are the run summary's (`peerperf.analysis.summarise`), over the
same steady state; CPU is the host process's, averaged over its steady windows.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from peerperf.analysis.health import host_rows
from peerperf.analysis.summarise import summary
from peerperf.analysis.windows import steady, with_windows
from peerperf.sizing.layer_measurement import LayerMeasurement


def measurement(layer_size: int, points: list[dict[str, Any]], layers: int = 1) -> LayerMeasurement:
    """The steady-state figures of the datapoints of `layers` packed layers of `layer_size`."""
    if not points:
        raise ValueError(f"the layer of {layer_size} produced no datapoints")
    frame = pd.DataFrame(points).assign(testId="packed")
    result = summary(frame)
    body, state = steady(with_windows(frame))
    if body.empty:
        raise ValueError(f"the layer of {layer_size} had no steady window: run it longer")
    hosts = host_rows(body)
    unique = float(pd.to_numeric(body["uniqueReceived"]).mean()) / state.interval_s
    load = float(pd.to_numeric(hosts["machineLoad1"]).mean()) if "machineLoad1" in hosts else math.nan
    verdict = result.verdict
    return LayerMeasurement(
        layer_size,
        float(result["duration"]),
        float(pd.to_numeric(hosts["hostCpuPercent"]).mean()),
        float(result["throughput.received"]),
        float(result["throughput.sent"]),
        float(result["throughput.relayed"]),
        float(result["throughput.originated"]),
        unique,
        float(result["connections"]),
        float(result["loss"]),
        float(verdict.figures.get("tickLagP99Ms", math.nan)),
        str(verdict.status),
        list(verdict.reasons),
        load,
        layers,
    )
