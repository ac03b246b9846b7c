"""`peerperf calibrate`: measure what peers cost on this machine, layer size by layer size, and fit it.

Each layer size runs as a real packed layer in a fresh process (`packed_run`), smallest first, alone
and then as several layers side by side (more packets per process, the same per peer); the sizes
stop growing at the first one unhealthy alone (a larger layer only costs more) unless asked to keep
going. The healthy measurements are fitted (`cost_model`), and everything goes into a calibration
file with the machine, versions and date.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.sim.routines import parse_mix
from peerperf.sizing import peer_settings_json
from peerperf.sizing.calibration import Calibration, Machine, utc_now, versions
from peerperf.sizing.cost_model import fit
from peerperf.sizing.layer_measurement import LayerMeasurement
from peerperf.sizing.packed_run import PackedLayer

#: A fit needs this many healthy layer sizes (two points fix a line; the residuals need a third).
MIN_HEALTHY = 3
#: A packed layer's process may take this much longer than its test before it is given up.
CHILD_SLACK = 120.0


@dataclass(frozen=True)
class CalibrationPlan:
    """What `calibrate` runs."""

    sizes: list[int]
    routine: str = "default"
    peer: PeerSettings = field(default_factory=PeerSettings)
    seconds: float = 30.0
    stats_interval: float = 2.0
    seed: int = 1
    keep_going: bool = False
    #: Each size also runs as this many layers side by side in one process: the same packets per peer, more per
    #: process, so the fit can tell a peer's cost from its packets' (one layer alone is measured first).
    layers_per_process: tuple[int, ...] = (1, 3)

    def __post_init__(self) -> None:
        problems = []
        if not self.sizes or any(s < 2 for s in self.sizes):
            problems.append(f"layer sizes must be at least 2, got {self.sizes}")
        elif len(set(self.sizes)) < MIN_HEALTHY:
            problems.append(f"give at least {MIN_HEALTHY} different layer sizes, got {self.sizes}")
        if not self.layers_per_process or self.layers_per_process[0] != 1 or min(self.layers_per_process) < 1:
            problems.append(
                f"layers per process must start with 1 (one layer alone), got {list(self.layers_per_process)}"
            )
        if self.seconds < 3 * self.stats_interval + 4:
            problems.append(
                f"{self.seconds} s per layer leave no steady window after the warm-up (4 s) with "
                f"{self.stats_interval} s windows: give at least {3 * self.stats_interval + 4:g} s"
            )
        try:
            parse_mix(self.routine)
        except ConfigError as exc:
            problems.append(str(exc))
        if problems:
            raise ConfigError("; ".join(problems))


Measure = Callable[[PackedLayer], LayerMeasurement]


def measure_in_child(layer: PackedLayer, env: dict[str, str] | None = None) -> LayerMeasurement:
    """Run one packed layer in a fresh Python process (`env` added to its environment); its measurement."""
    command = [sys.executable, "-m", "peerperf.sizing.packed_run", json.dumps(layer.to_json())]
    limit = layer.seconds + CHILD_SLACK
    environment = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False, env=environment)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the layer of {layer.layer_size} did not finish in {limit:.0f} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"the layer of {layer.layer_size} failed:\n{done.stderr[-3000:]}")
    return LayerMeasurement.from_json(json.loads(done.stdout.strip().splitlines()[-1]))


def calibrate(
    plan: CalibrationPlan, progress: Callable[[str], None] = print, measure: Measure = measure_in_child
) -> Calibration:
    """Measure each layer size of `plan` (one layer per process, then several) and fit every healthy measurement;
    `ConfigError` if too few sizes were healthy."""
    layers: list[LayerMeasurement] = []
    sizes = sorted(set(plan.sizes))
    for number, size in enumerate(sizes, 1):
        for count in plan.layers_per_process:
            what = f"layer of {size}" if count == 1 else f"{count} layers of {size} in one process"
            progress(f"[{number}/{len(sizes)}] {what}: {plan.seconds:g} s of the {plan.routine} routine ...")
            packed = PackedLayer(
                size, plan.routine, plan.peer, None, plan.seconds, plan.stats_interval, plan.seed, count
            )
            result = measure(packed)
            layers.append(result)
            progress(f"    {_describe(result)}")
            if count == 1 and not result.healthy:
                break  # more layers of this size in one process would only cost more
        alone = next(m for m in reversed(layers) if m.layer_size == size and m.layers == 1)
        if not alone.healthy and not plan.keep_going and number < len(sizes):
            progress(f"    stopping: layers larger than {size} only cost more (--keep-going runs them anyway)")
            break
    healthy_sizes = sorted({m.layer_size for m in layers if m.healthy and m.layers == 1})
    if len(healthy_sizes) < MIN_HEALTHY:
        raise ConfigError(
            f"only {len(healthy_sizes)} layer size(s) were healthy ({healthy_sizes}): a calibration needs "
            f"{MIN_HEALTHY}. Smaller sizes, a quieter machine, or fewer layers per process help"
        )
    healthy = [m for m in layers if m.healthy]
    result_fit = fit(healthy)
    model = result_fit.model
    progress(
        f"fit over {len(healthy)} healthy measurements (layers of {healthy_sizes}): {model.per_packet * 1e6:.0f} us "
        f"per packet, {model.per_peer * 100:.2f}% of a core per peer, {model.per_process * 100:.2f}% per process; "
        f"worst residual {result_fit.worst_residual:.1%}"
    )
    return Calibration(
        Machine.here(),
        versions(),
        utc_now(),
        plan.routine,
        peer_settings_json.to_json(plan.peer, secrets=False),
        plan.stats_interval,
        plan.seconds,
        layers,
        result_fit,
    )


def _describe(result: LayerMeasurement) -> str:
    verdict = "healthy" if result.healthy else "NOT healthy: " + "; ".join(result.why_not_healthy())
    return (
        f"{result.cpu_percent:.0f}% of a core = {result.cpu_per_peer:.4f} cores per peer; per peer/s "
        f"{result.received:,.0f} received, {result.sent:,.0f} sent, {result.relayed:,.0f} relayed; "
        f"tick lag p99 {result.tick_lag_p99_ms:.1f} ms, loss {result.loss:.2%}, load {result.machine_load:.1f}: "
        f"{verdict}"
    )
