"""Sides of runs compared: which differences are real, with bootstrap confidence intervals.

A side is one or more runs of the same settings (the baseline is the first side). Each figure of
a side is computed over all its runs' peers together. Its interval comes from a two-level bootstrap,
`resamples` times: draw the side's runs with replacement, then the peers of each drawn run with
replacement, and recompute the figure; the 95 % interval of the differences between sides says how
sure a change is. With several runs per side the interval includes the run-to-run variance (two
runs of the same settings can form different meshes); with one run per side it can only see the
spread between peers within each run, and the comparison says so. A difference is *significant*
when its interval excludes zero and it is larger than the figure's resolution (histogram buckets
are 4.4 % wide; delivery and loss are exact counts, 0.1 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peerperf.analysis.figures import Definition, definitions
from peerperf.analysis.groups import all_groups, group_summaries
from peerperf.analysis.peers import PeerSamples
from peerperf.analysis.prepared import prepare
from peerperf.analysis.summarise import Summary, summarise, summary

#: Confidence of the intervals.
CONFIDENCE = 0.95
#: Said when every side holds one run.
WITHIN_RUN_ONLY = (
    "one run per side: the intervals measure the spread between peers within each run, not between runs "
    "(two runs of the same settings can differ more); give several runs per side "
    "(--baseline A1 A2 ... --candidate B1 B2 ...) to include the run-to-run variance"
)


@dataclass(frozen=True)
class Difference:
    """One figure across sides: values, and per later side its change from the first."""

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
    """The sides' summaries, the differences of their figures, and the settings that differ."""

    names: list[str]
    summaries: list[Summary]
    differences: list[Difference]
    settings: dict[str, list[Any]] = field(default_factory=dict)
    #: Each side's runs (test ids) and their harness verdicts.
    runs: list[list[str]] = field(default_factory=list)
    harness: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
            "sides": self.names,
            "runs": self.runs,
            "settingsThatDiffer": self.settings,
            "harness": self.harness,
            "notes": self.notes,
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
    """Compare runs, one per side (the first is the baseline); `metadata` per run shows which settings differ."""
    return compare_sides(
        [[frame] for frame in frames],
        names,
        [[meta] for meta in metadata] if metadata is not None else None,
        resamples=resamples,
        seed=seed,
    )


def compare_sides(
    sides: list[list[pd.DataFrame]],
    names: list[str] | None = None,
    metadata: list[list[dict[str, Any]]] | None = None,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare sides of one or more runs each (the first side is the baseline)."""
    if len(sides) < 2 or any(not runs for runs in sides):
        raise ValueError("compare needs at least two sides, each of at least one run")
    names = names or [f"run {i + 1}" for i in range(len(sides))]
    metadata = metadata or [[{} for _ in runs] for runs in sides]
    run_summaries = [
        [summary(frame, metadata=meta) for frame, meta in zip(runs, metas, strict=True)]
        for runs, metas in zip(sides, metadata, strict=True)
    ]
    pooled = [prepare(pd.concat(runs, ignore_index=True) if len(runs) > 1 else runs[0]) for runs in sides]
    summaries = [
        summarise(p, metas[0] if len(metas) == 1 else {"settings": metas[0].get("settings", {})})
        for p, metas in zip(pooled, metadata, strict=True)
    ]
    samples = [p.samples for p in pooled]
    differences = _differences(summaries, samples, resamples, seed)
    notes = [WITHIN_RUN_ONLY] if all(len(runs) == 1 for runs in sides) else []
    notes += _mixed_settings(names, metadata)
    return Comparison(
        names,
        summaries,
        differences,
        settings_that_differ([metas[0] for metas in metadata]),
        [[t for s in summaries_ for t in s.test_ids] for summaries_ in run_summaries],
        [[str(s.verdict.status) for s in summaries_] for summaries_ in run_summaries],
        notes,
    )


def compare_groups(frame: pd.DataFrame, column: str, *, resamples: int = 2000, seed: int = 0) -> Comparison:
    """Compare the groups of one run's peers by `column` (e.g. `impairment`): the first group is the baseline."""
    if column not in frame and column != "kind":  # every datapoint has a kind (`windows.kinds`)
        raise KeyError(f"the datapoints have no column {column!r}")
    prepared = prepare(frame)
    groups = group_summaries(prepared, column)
    if len(groups) < 2:
        raise ValueError(f"{column!r} has one value in this run ({', '.join(groups)}): nothing to compare")
    samples = list(all_groups(prepared, column).values())
    differences = _differences(list(groups.values()), samples, resamples, seed)
    whole = next(iter(groups.values()))
    note = f"groups of one run by {column}: the intervals measure the spread between the peers of this run"
    return Comparison(
        [name or "(none)" for name in groups], list(groups.values()), differences, runs=[whole.test_ids], notes=[note]
    )


def _differences(summaries: list[Summary], samples: list[PeerSamples], resamples: int, seed: int) -> list[Difference]:
    rng = np.random.default_rng(seed)
    subtypes = sorted({s for sample in samples for s in sample.subtypes})
    weights = [_weights(sample, resamples, rng) for sample in samples]
    differences = []
    for definition in definitions(subtypes):
        base_values = [s.get(definition.name, math.nan) for s in summaries]
        values = [float(v) if isinstance(v, int | float) else math.nan for v in base_values]
        if all(math.isnan(v) for v in values):
            continue
        boot = [_bootstrap(definition, sample, w) for sample, w in zip(samples, weights, strict=True)]
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


def _weights(samples: PeerSamples, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap weights (resamples x peers): runs drawn with replacement, then each drawn run's peers."""
    runs = samples.table["testId"].astype(str).to_numpy() if len(samples.table) else np.array([], dtype=str)
    names, run_of = np.unique(runs, return_inverse=True)
    out = np.zeros((resamples, len(runs)))
    if len(runs) == 0:
        return out
    picks = rng.multinomial(len(names), np.full(len(names), 1 / len(names)), size=resamples)
    for j in range(len(names)):
        mine = run_of == j
        peers = int(mine.sum())
        out[:, mine] = rng.multinomial(picks[:, j] * peers, np.full(peers, 1 / peers))
    return out


def _bootstrap(definition: Definition, samples: PeerSamples, weights: np.ndarray) -> np.ndarray:
    if len(samples.table) == 0:
        return np.full(len(weights), math.nan)
    return np.asarray(definition.statistic.evaluate(samples, weights), dtype=float)


def _is_significant(definition: Definition, base: float, delta: float, interval: tuple[float, float]) -> bool:
    low, high = interval
    if math.isnan(low) or math.isnan(delta):
        return False
    resolution = definition.resolution * abs(base) if definition.relative else definition.resolution
    return (low > 0 or high < 0) and abs(delta) > resolution


#: Recorded settings that say where results go or how progress is shown, not what was measured.
NOT_MEASURED = frozenset({"output", "plain"})
#: Settings that may differ between the runs of one side (repeats of the same settings).
REPEATS_MAY_DIFFER = frozenset({"seed", "test_id"})


def settings_that_differ(metadata: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Settings whose values are not the same in every run (a setting absent from a run shows as None)."""
    settings = [dict(m.get("settings") or {}) for m in metadata]
    keys = sorted({k for s in settings for k in s} - NOT_MEASURED)
    return {k: [s.get(k) for s in settings] for k in keys if len({repr(s.get(k)) for s in settings}) > 1}


def _mixed_settings(names: list[str], metadata: list[list[dict[str, Any]]]) -> list[str]:
    """A note for each side whose runs differ in a setting (they should be repeats of one another)."""
    notes = []
    for name, metas in zip(names, metadata, strict=True):
        differ = {k: v for k, v in settings_that_differ(metas).items() if k not in REPEATS_MAY_DIFFER}
        if differ:
            shown = "; ".join(f"{k}: {' vs '.join(map(str, v))}" for k, v in differ.items())
            notes.append(f"the runs of {name} are not repeats of one another: {shown}")
    return notes
