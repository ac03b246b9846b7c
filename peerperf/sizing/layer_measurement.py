"""What one real packed layer measured: rates per peer, CPU, loss and the harness verdict.

A layer is healthy when the harness verdict is (tick lag, skipped ticks, CPU bound:
`analysis/thresholds.py`) and its loss stays under `LOSS_LIMIT`. `measurement.py` reads one from a
layer's datapoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: The harness verdict's healthy status as the analysis writes it (`analysis.verdict.Status`, which loads pandas).
HEALTHY = "healthy"
#: Largest loss (sequence gaps) a healthy layer may show: a connection closing under the mesh's
#: upgrades can drop a frame in flight; a layer that falls behind loses far more.
LOSS_LIMIT = 0.001


@dataclass(frozen=True)
class LayerMeasurement:
    """Real layers of one size, packed in one process. Rates are per peer per second, CPU (the process's) in % of
    one core."""

    layer_size: int
    seconds: float
    cpu_percent: float
    received: float
    sent: float
    relayed: float
    originated: float
    unique: float
    connections: float
    loss: float
    tick_lag_p99_ms: float
    harness: str
    reasons: list[str] = field(default_factory=list)
    #: The machine's 1-minute load average during the steady state (other work shows here).
    machine_load: float = math.nan
    #: Layers of `layer_size` the process ran side by side (more packets per process, the same per peer).
    layers: int = 1

    @property
    def peers(self) -> int:
        return self.layer_size * self.layers

    @property
    def cpu_per_peer(self) -> float:
        """Cores per peer."""
        return self.cpu_percent / 100 / self.peers

    @property
    def healthy(self) -> bool:
        return self.harness == HEALTHY and self.loss <= LOSS_LIMIT

    def why_not_healthy(self) -> list[str]:
        out = [] if self.harness == HEALTHY else [f"harness {self.harness}: {'; '.join(self.reasons)}"]
        if not self.loss <= LOSS_LIMIT:
            out.append(f"loss {self.loss:.2%} > {LOSS_LIMIT:.1%}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items()},
            "cpu_per_peer": self.cpu_per_peer,
            "healthy": self.healthy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LayerMeasurement:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})
