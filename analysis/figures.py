"""The figures of a summary: each one's name, unit and better direction, and how it is computed per peer.

`Definition`s are computed from per-peer samples (`peerperf.analysis.peers`), so a comparison can
resample the peers and recompute them (`peerperf.analysis.comparison`).
"""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.analysis.peers import LATENCY_COLUMNS, RATES, PeerSamples
from peerperf.analysis.statistics import FromHistogram, Mean, Ratio, Statistic, evaluate
from peerperf.protocol.histogram import Scale


@dataclass(frozen=True)
class Metric:
    """One figure of a summary."""

    name: str
    label: str
    value: float | int | str
    unit: str = ""
    #: "higher" or "lower" when one direction is better, "" when neither is.
    better: str = ""


@dataclass(frozen=True)
class Definition:
    """A figure computed from per-peer samples (so comparisons can resample it)."""

    name: str
    label: str
    statistic: Statistic
    unit: str = ""
    better: str = ""
    #: Smallest difference that matters (absolute), or as a share of the value when `relative`.
    resolution: float = 0.0
    relative: bool = False


def definitions(subtypes: list[str]) -> list[Definition]:
    """The per-peer figures, in the order a person reads them."""
    out = [
        # 0.1 %: delivery is counted exactly by origin window (no stats-window edges), as loss by sequence gaps.
        Definition(
            "delivery", "delivery ratio (layer, every packet)", Ratio("arrived", "expected"), "", "higher", 0.001
        ),
        *(
            Definition(
                f"delivery.{s}",
                f"delivery ratio to rooms: {s}",
                Ratio(f"arrived.{s}", f"expected.{s}"),
                "",
                "higher",
                0.001,
            )
            for s in subtypes
        ),
        Definition("loss", "loss (sequence gaps)", Ratio("lost", "unique", "lost"), "", "lower", 0.001),
        Definition("expired", "arrived expired", Ratio("arrivedExpired", "unique"), "", "lower", 0.001),
        Definition("duplicates", "duplicate copies", Ratio("duplicateWindow", "receivedWindow"), "", "lower", 0.01),
    ]
    for subtype in LATENCY_COLUMNS:
        for pct in (50, 95, 99, 100):
            name = "max" if pct == 100 else f"p{pct}"
            out.append(
                Definition(
                    f"latency.{subtype}.{name}",
                    f"latency {subtype} {name}",
                    FromHistogram(f"latency.{subtype}", pct),
                    "ms",
                    "lower",
                    0.05,
                    relative=True,
                )
            )
    out += [
        Definition(f"throughput.{name}", f"{name} per peer", Mean(f"rate.{name}"), "packets/s", "", 0.01, relative=True)
        for name in RATES
    ]
    out += [
        Definition("connections", "connections per peer", Mean("connections"), "", "", 0.05),
        Definition("hops.mean", "hops, mean", FromHistogram("hops", None, Scale.LINEAR), "hops", "lower", 0.05),
        Definition("hops.p99", "hops, p99", FromHistogram("hops", 99, Scale.LINEAR), "hops", "lower", 0.5),
    ]
    return out


def figures(samples: PeerSamples) -> dict[str, Metric]:
    """Every per-peer figure (delivery, loss, latency, throughput, mesh) over the peers of `samples`."""
    out = {}
    for definition in definitions(samples.subtypes):
        if definition.name.startswith("latency.") and _empty(samples, definition):
            continue
        value = evaluate(definition.statistic, samples)
        out[definition.name] = Metric(definition.name, definition.label, value, definition.unit, definition.better)
    return out


def _empty(samples: PeerSamples, definition: Definition) -> bool:
    statistic = definition.statistic
    if isinstance(statistic, FromHistogram):
        counts = samples.histograms.get(statistic.histogram)
        return counts is None or counts.sum() == 0
    return False
