"""A calibration file: what `peerperf calibrate` measured on one machine, and the cost model fitted to it.

JSON, so a person can read it and a plan can say where its numbers come from: the machine (CPU model,
cores, platform), versions, date, routine and peer settings, every measured layer, the fit and its
residuals, and the largest layer the machine held healthy. A default one, made on the kind of machine
this project runs on, ships in the package (`data/default_calibration.json`).
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from peerperf.errors import ConfigError
from peerperf.sizing.cost_model import CostModel, Fit, Residual
from peerperf.sizing.layer_measurement import LayerMeasurement

FORMAT = "peerperf-calibration/1"
#: The calibration shipped with the package, used when a plan is given none.
DEFAULT_NAME = "default_calibration.json"


@dataclass(frozen=True)
class Machine:
    """Where a calibration was made."""

    cpu_model: str
    cores: int
    platform: str

    @classmethod
    def here(cls) -> Machine:
        return cls(_cpu_model(), os.cpu_count() or 1, platform.platform())


@dataclass(frozen=True)
class Calibration:
    """Measured layers of one machine and the cost model fitted to the healthy ones."""

    machine: Machine
    versions: dict[str, str]
    created_utc: str
    routine: str
    #: The peer settings the layers ran with (secrets left out), as a run records them.
    peer_settings: dict[str, Any]
    stats_interval: float
    seconds: float
    layers: list[LayerMeasurement]
    fit: Fit
    #: Where this calibration was read from ("" when made in this process).
    source: str = field(default="", compare=False)

    @property
    def healthy_sizes(self) -> list[int]:
        """Layer sizes measured healthy (a size counts when one layer of it alone was)."""
        return sorted({m.layer_size for m in self.layers if m.healthy and m.layers == 1})

    @property
    def busiest_healthy_host(self) -> float | None:
        """Cores used by the busiest process the calibration measured healthy."""
        return max((m.cpu_percent / 100 for m in self.layers if m.healthy), default=None)

    @property
    def largest_healthy(self) -> int | None:
        sizes = self.healthy_sizes
        return sizes[-1] if sizes else None

    def to_json(self) -> dict[str, Any]:
        fit = self.fit
        return {
            "format": FORMAT,
            "machine": self.machine.__dict__,
            "versions": self.versions,
            "created_utc": self.created_utc,
            "routine": self.routine,
            "peer_settings": self.peer_settings,
            "stats_interval": self.stats_interval,
            "seconds": self.seconds,
            "layers": [m.to_json() for m in self.layers],
            "largest_healthy_layer": self.largest_healthy,
            "busiest_healthy_host_cores": self.busiest_healthy_host,
            "fit": {
                "model": "host cores = per_process + peers x (per_peer + per_packet x packets received per peer/s)",
                **fit.model.__dict__,
                "per_packet_us": fit.model.per_packet * 1e6,
                "terms": list(fit.terms),
                "measurements": [[r.layer_size, r.layers] for r in fit.residuals],
                "residuals": [{**r.__dict__, "relative": r.relative} for r in fit.residuals],
                "received_identity_error": fit.received_identity_error,
            },
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def from_json(cls, data: Any, source: str = "") -> Calibration:
        """Read a calibration; anything missing or malformed is a `ConfigError` naming it and the file."""
        where = source or "the calibration"
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"{where} is not a peerperf calibration (format {FORMAT!r} expected)")
        try:
            fit = data["fit"]
            layers = [LayerMeasurement.from_json(m) for m in data["layers"]]
            model = CostModel(float(fit["per_process"]), float(fit["per_peer"]), float(fit["per_packet"]))
            residuals = [
                Residual(
                    int(r["layer_size"]),
                    int(r["layers"]),
                    float(r["measured_cores_per_peer"]),
                    float(r["fitted_cores_per_peer"]),
                )
                for r in fit["residuals"]
            ]
            return cls(
                Machine(**data["machine"]),
                dict(data["versions"]),
                str(data["created_utc"]),
                str(data["routine"]),
                dict(data["peer_settings"]),
                float(data["stats_interval"]),
                float(data["seconds"]),
                layers,
                Fit(model, tuple(fit["terms"]), residuals, float(fit["received_identity_error"])),
                source,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} is incomplete or malformed: {exc!r}") from None


def load(path: Path) -> Calibration:
    """A calibration file, with a clear error when it is missing, not JSON, or not a calibration."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read calibration {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"calibration {path} is not JSON: {exc}") from None
    return Calibration.from_json(data, str(path))


def default() -> Calibration:
    """The calibration shipped with peerperf (made on the project's machine type)."""
    resource = files("peerperf.sizing") / "data" / DEFAULT_NAME
    return Calibration.from_json(json.loads(resource.read_text()), f"peerperf's default calibration ({DEFAULT_NAME})")


def versions() -> dict[str, str]:
    """Versions that change what a peer costs."""
    return {
        "python": platform.python_version(),
        "peerperf": version("peerperf"),
        "aiortc": version("aiortc"),
        "uvloop": version("uvloop"),
        "protobuf": version("protobuf"),
    }


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
