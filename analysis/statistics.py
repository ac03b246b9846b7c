"""The statistics of a summary, each computed from per-peer samples under peer weights.

A weight matrix W (k x peers) says how often each peer counts in each of k evaluations: one row of
ones is the run itself, rows of multinomial counts are bootstrap resamples. Every statistic is
vectorised over those rows, so the summary and the comparison's confidence intervals come from
the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from peerperf.analysis.histograms import SIZE
from peerperf.analysis.peers import PeerSamples
from peerperf.protocol.histogram import MIN_VALUE, RATIO, Scale


@dataclass(frozen=True)
class Ratio:
    """Sum of `numerator` over sum of `denominator` (plus `denominator_plus`), across peers."""

    numerator: str
    denominator: str
    denominator_plus: str | None = None

    def evaluate(self, samples: PeerSamples, weights: np.ndarray) -> np.ndarray:
        table = samples.table
        if self.numerator not in table or self.denominator not in table:
            return np.full(len(weights), math.nan)
        numerator = table[self.numerator].to_numpy(dtype=float)
        denominator = table[self.denominator].to_numpy(dtype=float)
        if self.denominator_plus is not None:
            denominator = denominator + table[self.denominator_plus].to_numpy(dtype=float)
        top, bottom = weights @ numerator, weights @ denominator
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / bottom, math.nan)


@dataclass(frozen=True)
class Mean:
    """Mean over peers of a per-peer value (peers without a value are left out)."""

    column: str

    def evaluate(self, samples: PeerSamples, weights: np.ndarray) -> np.ndarray:
        if self.column not in samples.table:
            return np.full(len(weights), math.nan)
        values = samples.table[self.column].to_numpy(dtype=float)
        present = ~np.isnan(values)
        total = weights @ present.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (weights @ np.where(present, values, 0.0)) / total, math.nan)


@dataclass(frozen=True)
class FromHistogram:
    """A percentile of the peers' merged histogram (`pct` 100: the highest bucket), or its mean (`pct` None)."""

    histogram: str
    pct: float | None = None
    scale: Scale = Scale.LOG

    def evaluate(self, samples: PeerSamples, weights: np.ndarray) -> np.ndarray:
        counts = samples.histograms.get(self.histogram)
        if counts is None or counts.sum() == 0:
            return np.full(len(weights), math.nan)
        merged = weights @ counts  # (k, buckets): the peers' histograms added under each row of weights
        total = merged.sum(axis=1)
        values = bucket_values(self.scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.pct is None:
                return np.where(total > 0, (merged @ values) / total, math.nan)
            rank = np.maximum(1, np.ceil(self.pct / 100 * total))
            index = (np.cumsum(merged, axis=1) < rank[:, None]).sum(axis=1)
            return np.where(total > 0, values[np.minimum(index, SIZE - 1)], math.nan)


Statistic = Ratio | Mean | FromHistogram


def bucket_values(scale: Scale) -> np.ndarray:
    index = np.arange(SIZE, dtype=float)
    return index if scale is Scale.LINEAR else MIN_VALUE * RATIO ** (index + 0.5)


def evaluate(statistic: Statistic, samples: PeerSamples) -> float:
    """The statistic over all peers, each counted once."""
    return float(statistic.evaluate(samples, np.ones((1, len(samples.table))))[0])
