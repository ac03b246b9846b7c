"""Two or more runs side by side: which differences are real, with bootstrap confidence intervals.

For each figure computed from per-peer samples, both runs are resampled by peer (with
replacement) and the figure recomputed, `resamples` times; the 95 % interval of the differences
says how sure the change is. A difference is *significant* when its interval excludes zero and it
is larger than the figure's resolution (histogram buckets are 4.4 % wide; a delivery change below
0.5 % is what the stats windows' edges do between repeats), so two runs with the same settings do not
differ by accident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peerperf.analysis.peers import PeerSamples, peer_samples, subset
from peerperf.analysis.summary import Definition, Summary, definitions, summaries_by, summary
from peerperf.analysis.windows import steady, with_windows

#: Confidence of the intervals.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Difference:
    """One figure across runs: values, and per later run its change from the first."""

    name: str
    label: str
    unit: str
    better: str
    values: list[float]
    deltas: list[float]
    intervals: list[tuple[float, float]]
    significant: list[bool]


@dataclass(frozen=True)
class Comparison:
    """The runs' summaries, the differences of their figures, and the settings that differ."""

    names: list[str]
    summaries: list[Summary]
    differences: list[Difference]
    settings: dict[str, list[Any]] = field(default_factory=dict)

    def significant(self) -> list[Difference]:
        return [d for d in self.differences if any(d.significant)]

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for d in self.differences:
            row: dict[str, Any] = {"name": d.name, "unit": d.unit}
            for i, name in enumerate(self.names):
                row[name] = d.values[i]
                if i:
                    low, high = d.intervals[i - 1]
                    row[f"{name} delta"] = d.deltas[i - 1]
                    row[f"{name} ci"] = f"[{low:.4g}, {high:.4g}]"
                    row[f"{name} significant"] = d.significant[i - 1]
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.names,
            "settingsThatDiffer": self.settings,
            "harness": [str(s.verdict.status) for s in self.summaries],
            "differences": [
                {
                    "name": d.name,
                    "unit": d.unit,
                    "values": [_plain(v) for v in d.values],
                    "deltas": [_plain(v) for v in d.deltas],
                    "intervals": [[_plain(a), _plain(b)] for a, b in d.intervals],
                    "significant": d.significant,
                }
                for d in self.differences
            ],
        }


def _plain(value: float) -> float | None:
    return None if math.isnan(value) else value


def compare(
    frames: list[pd.DataFrame],
    names: list[str] | None = None,
    metadata: list[dict[str, Any]] | None = None,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare runs (the first is the baseline); `metadata` per run shows which settings differ."""
    if len(frames) < 2:
        raise ValueError("compare needs at least two runs")
    names = names or [f"run {i + 1}" for i in range(len(frames))]
    metadata = metadata or [{} for _ in frames]
    summaries = [summary(frame, metadata=meta) for frame, meta in zip(frames, metadata, strict=True)]
    numbered = [with_windows(frame) for frame in frames]
    samples = [peer_samples(steady(frame)[0], frame) for frame in numbered]
    differences = _differences(summaries, samples, resamples, seed)
    return Comparison(names, summaries, differences, settings_that_differ(metadata))


def compare_groups(frame: pd.DataFrame, column: str, *, resamples: int = 2000, seed: int = 0) -> Comparison:
    """Compare the groups of one run's peers by `column` (e.g. `impairment`): the first group is the baseline."""
    groups = summaries_by(frame, column)
    if len(groups) < 2:
        raise ValueError(f"{column!r} has one value in this run ({', '.join(groups)}): nothing to compare")
    numbered = with_windows(frame)
    body, _ = steady(numbered)
    samples = peer_samples(body if len(body) else numbered, numbered)
    values = numbered.groupby(["testId", "peerId"], observed=True)[column].first()
    group = values.reindex(pd.MultiIndex.from_frame(samples.table[["testId", "peerId"]])).astype(str).to_numpy()
    names = list(groups)
    parts = [subset(samples, [i for i, g in enumerate(group) if g == name]) for name in names]
    shown = [name or "(none)" for name in names]
    return Comparison(shown, list(groups.values()), _differences(list(groups.values()), parts, resamples, seed))


def _differences(summaries: list[Summary], samples: list[PeerSamples], resamples: int, seed: int) -> list[Difference]:
    rng = np.random.default_rng(seed)
    subtypes = sorted({s for sample in samples for s in sample.subtypes})
    differences = []
    for definition in definitions(subtypes):
        base_values = [s.get(definition.name, math.nan) for s in summaries]
        values = [float(v) if isinstance(v, int | float) else math.nan for v in base_values]
        if all(math.isnan(v) for v in values):
            continue
        boot = [_bootstrap(definition, sample, resamples, rng) for sample in samples]
        deltas, intervals, significant = [], [], []
        for i in range(1, len(samples)):
            delta = values[i] - values[0]
            diffs = boot[i] - boot[0]
            diffs = diffs[~np.isnan(diffs)]
            if len(diffs) == 0 or math.isnan(delta):
                interval = (math.nan, math.nan)
            else:
                tail = (1 - CONFIDENCE) / 2 * 100
                interval = (float(np.percentile(diffs, tail)), float(np.percentile(diffs, 100 - tail)))
            deltas.append(delta)
            intervals.append(interval)
            significant.append(_is_significant(definition, values[0], delta, interval))
        differences.append(
            Difference(
                definition.name,
                definition.label,
                definition.unit,
                definition.better,
                values,
                deltas,
                intervals,
                significant,
            )
        )
    return differences


def _bootstrap(definition: Definition, samples: PeerSamples, resamples: int, rng: np.random.Generator) -> np.ndarray:
    peers = len(samples.table)
    if peers == 0:
        return np.full(resamples, math.nan)
    weights = rng.multinomial(peers, np.full(peers, 1 / peers), size=resamples).astype(float)
    return np.asarray(definition.statistic.evaluate(samples, weights), dtype=float)


def _is_significant(definition: Definition, base: float, delta: float, interval: tuple[float, float]) -> bool:
    low, high = interval
    if math.isnan(low) or math.isnan(delta):
        return False
    resolution = definition.resolution * abs(base) if definition.relative else definition.resolution
    return (low > 0 or high < 0) and abs(delta) > resolution


#: Recorded settings that say where results go or how progress is shown, not what was measured.
NOT_MEASURED = frozenset({"output", "plain"})


def settings_that_differ(metadata: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Settings whose values are not the same in every run (a setting absent from a run shows as None)."""
    settings = [dict(m.get("settings") or {}) for m in metadata]
    keys = sorted({k for s in settings for k in s} - NOT_MEASURED)
    return {k: [s.get(k) for s in settings] for k in keys if len({repr(s.get(k)) for s in settings}) > 1}
