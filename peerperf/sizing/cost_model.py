"""CPU of a peer host as a function of its peers and their packets, fitted to measured layers.

A host process costs `per_process` (its event loop and tick loop), plus `per_peer` for each peer
(routine, timers, housekeeping), plus `per_packet` for each packet its peers receive. There is one
per-packet term, not one for received, sent and relayed packets each: in a layer every frame a peer
sends or relays is received by another peer of the same layer, so per peer on average received =
sent + relayed, and the three are not separable from whole layers; `per_packet` is the cost of one
packet at both ends. `fit` checks that identity on the measurements and says how far off it is.

The fit is least squares on relative error (a small layer's CPU counts as much as a large one's),
restricted to non-negative costs: of the models using a subset of the three terms, the one with the
smallest error whose costs are all non-negative.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from peerperf.sizing.layer_measurement import LayerMeasurement

TERMS = ("per_process", "per_peer", "per_packet")


@dataclass(frozen=True)
class CostModel:
    """Cores used by one host process; `per_packet` is core-seconds per received packet."""

    per_process: float
    per_peer: float
    per_packet: float

    def host_cores(self, peers: int, received_per_peer: float) -> float:
        """Cores of a host running `peers` peers that each receive `received_per_peer` packets/s."""
        return self.per_process + peers * (self.per_peer + self.per_packet * received_per_peer)

    def cores_per_peer(self, peers_per_host: int, received_per_peer: float) -> float:
        return self.host_cores(peers_per_host, received_per_peer) / peers_per_host


@dataclass(frozen=True)
class Residual:
    """One measurement (`layers` of `layer_size` in one process) against the fit."""

    layer_size: int
    layers: int
    measured_cores_per_peer: float
    fitted_cores_per_peer: float

    @property
    def relative(self) -> float:
        return self.fitted_cores_per_peer / self.measured_cores_per_peer - 1


@dataclass(frozen=True)
class Fit:
    """The cost model, the terms it kept, and how well it reproduces each measured layer."""

    model: CostModel
    terms: tuple[str, ...]
    residuals: list[Residual]
    #: Mean over layers of |received - (sent + relayed)| / received: how closely the identity holds.
    received_identity_error: float

    @property
    def worst_residual(self) -> float:
        return max((abs(r.relative) for r in self.residuals), default=math.nan)


def fit(layers: list[LayerMeasurement]) -> Fit:
    """Fit the cost model to measured layers (at least two, of different sizes)."""
    import numpy as np  # only a calibration fits: a plan, and a run's placement check, read the fit

    if len({m.layer_size for m in layers}) < 2:
        raise ValueError(f"a fit needs layers of at least two sizes, got {sorted(m.layer_size for m in layers)}")
    # One term per cost the data can tell apart: a process of more peers, and peers receiving more packets.
    cores = np.array([m.cpu_percent / 100 for m in layers])
    if (cores <= 0).any():
        raise ValueError("a measured layer used no CPU: its figures cannot be right")
    columns = {
        "per_process": np.ones(len(layers)),
        "per_peer": np.array([float(m.peers) for m in layers]),
        "per_packet": np.array([m.peers * m.received for m in layers]),
    }
    best: tuple[float, tuple[str, ...], Any] | None = None
    for count in range(1, len(TERMS) + 1):
        for terms in itertools.combinations(TERMS, count):
            design = np.column_stack([columns[t] for t in terms]) / cores[:, None]  # relative error
            solution, *_ = np.linalg.lstsq(design, np.ones(len(layers)), rcond=None)
            if (solution < 0).any():
                continue
            error = float(np.sum((design @ solution - 1) ** 2))
            if best is None or error < best[0] - 1e-12:
                best = (error, terms, solution)
    assert best is not None  # a single term fitted to positive values is never negative
    _, terms, solution = best
    values = dict.fromkeys(TERMS, 0.0) | {t: float(v) for t, v in zip(terms, solution, strict=True)}
    model = CostModel(**values)
    residuals = [
        Residual(m.layer_size, m.layers, m.cpu_per_peer, model.cores_per_peer(m.peers, m.received)) for m in layers
    ]
    identity = [abs(m.received - m.sent - m.relayed) / m.received for m in layers if m.received > 0]
    return Fit(model, terms, residuals, sum(identity) / len(identity) if identity else math.nan)
