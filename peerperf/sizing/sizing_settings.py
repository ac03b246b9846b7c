"""The settings of `peerperf calibrate` and `peerperf plan`, declared once (flags and env vars come from here).

The run's placement check reads `PlanSettings` from the environment too, so `PEERPERF_CALIBRATION` and
`PEERPERF_UTILISATION` mean the same to a plan and to a run.
"""

from __future__ import annotations

import dataclasses

from peerperf.config import RunConfig
from peerperf.settings import setting, setting_like

#: Share of every core a plan lets peers use. A host at 90 % of a core is CPU-bound (analysis/thresholds.py)
#: and bursts (ping rounds, connection set-up, a flood's copies arriving together) run well above the mean;
#: Ray's raylet, the object store and the OS need the rest.
UTILISATION = 0.6


@dataclasses.dataclass(frozen=True)
class CalibrateSettings:
    """What `peerperf calibrate` measures."""

    sizes: str = setting("2,4,6,8,10,12", "layer sizes to measure, smallest first (stops at the first unhealthy one)")
    seconds: float = setting(30.0, "test length per layer size (the first 4 s are warm-up)", unit="s")
    routine: str = setting_like(RunConfig, "routine")
    stats_interval: int = setting_like(RunConfig, "stats_interval")
    layers_per_process: str = setting(
        "1,3", "each size also runs as this many layers in one process (more packets per process: the fit needs them)"
    )
    seed: int = setting(1, "random seed for ids, positions and start offsets")
    output: str = setting("calibration.json", "where to write the calibration")
    keep_going: bool = setting(False, "measure every size, also after an unhealthy one")


@dataclasses.dataclass(frozen=True)
class PlanSettings:
    """What `peerperf plan` sizes."""

    peers: int = setting_like(RunConfig, "peers")
    layer_size: int | None = setting(
        None, "peers per layer (every packet floods its layer); default: the lighthouse's layer capacity, as a run"
    )
    calibration: str | None = setting(
        None, "a calibration file from `peerperf calibrate` on the node type; default: the one peerperf ships"
    )
    node_cpus: int | None = setting(None, "vCPUs of a peer node; default: the calibration machine's")
    utilisation: float = setting(UTILISATION, "share of each core the peers may use (headroom for bursts, Ray, the OS)")
    browser_peers: int = setting_like(RunConfig, "browser_peers")
    pages_per_browser: int = setting_like(RunConfig, "pages_per_browser")
    simulation_seed: int = setting(1, "random seed of the mesh simulation")
    json: bool = setting(False, "print the plan as JSON")
