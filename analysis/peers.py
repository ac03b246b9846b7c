"""Per-peer samples of a run's steady state: the unit that summaries aggregate and comparisons resample.

Every figure of the summary is a statistic over peers that can be recomputed from any subset of
them: a ratio of sums (delivery, loss), a mean of per-peer means (throughput), or percentiles of
merged histograms (latency, hops). Comparisons resample peers and recompute the same statistic.

Delivery is counted against what each peer should have received. In window w of layer L with m
reporting peers, every flooded packet originated there should reach the m - 1 others, and a one-hop
packet (suspendRelay) exactly one neighbour. A peer p's share of that is the others' flooded packets
plus 1/(m - 1) of the others' one-hop packets, so peers' shares add up to the layer's exact total.
Room traffic (app messages, by subtype) is counted the same way over the peers of each room.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.histograms import bucket_counts

#: Per-second rates averaged per peer, as `throughput.<name>`.
RATES = {
    "originated": "originatedPerSecond",
    "sent": "sentPerSecond",
    "received": "receivedPerSecond",
    "relevant": "relevantPerSecond",
    "relayed": "relayedPerSecond",
    "duplicate": "duplicatePerSecond",
    "expired": "expiredPerSecond",
}
LATENCY_COLUMNS = {
    "position": "latencyPositionMs",
    "profile": "latencyProfileMs",
    "chat": "latencyChatMs",
    "other": "latencyOtherMs",
}


@dataclass
class PeerSamples:
    """One row per (testId, peerId); histogram counts as (peers x buckets) matrices in the same order."""

    table: pd.DataFrame
    histograms: dict[str, np.ndarray]
    subtypes: list[str]


def counts_table(column: pd.Series) -> pd.DataFrame:
    """A counts column (JSON objects, or Parquet maps read as pairs) as one integer column per name."""
    records = [_as_dict(value) for value in column.to_numpy(dtype=object)]
    table = pd.DataFrame.from_records(records, index=column.index) if records else pd.DataFrame(index=column.index)
    return table.fillna(0).astype("int64")


def _as_dict(value: Any) -> dict[str, int]:
    if isinstance(value, dict):
        return value
    if value is None or isinstance(value, float):
        return {}
    return dict(value)


def _column(frame: pd.DataFrame, name: str, default: float = 0.0) -> pd.Series:
    if name not in frame:
        return pd.Series(default, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").fillna(default)


def row_samples(body: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Per datapoint: what it counted and what it should have counted; and the app subtypes seen."""
    frame = body.assign(
        layer=body["layer"].fillna("") if "layer" in body else "",
        room=body["room"].fillna("") if "room" in body else "",
    )
    layer_window = ["testId", "layer", "window"]
    flooded = _column(frame, "originated") - _column(frame, "originatedOneHop")
    one_hop = _column(frame, "originatedOneHop")
    members = frame.groupby(layer_window)["peerId"].transform("nunique")
    others = (members - 1).where(members > 1)
    flooded_total = flooded.groupby([frame[k] for k in layer_window]).transform("sum")
    one_hop_total = one_hop.groupby([frame[k] for k in layer_window]).transform("sum")
    expected_layer = ((flooded_total - flooded) + (one_hop_total - one_hop) / others).fillna(0)

    unique = _column(frame, "uniqueReceived")
    missing = _column(frame, "missing") - _column(frame, "lateArrivals")
    per_row = pd.DataFrame(
        {
            "testId": frame["testId"],
            "peerId": frame["peerId"],
            "windows": 1,
            "unique": unique,
            "expected": expected_layer,
            "lost": missing,
            "arrivedExpired": _column(frame, "arrivedExpired"),
            "receivedWindow": _column(frame, "received"),
            "duplicateWindow": _column(frame, "duplicate"),
            "connections": frame["connectedPeers"].map(_length) if "connectedPeers" in frame else np.nan,
            "hasDelivery": frame["uniqueReceived"].notna() if "uniqueReceived" in frame else False,
        }
    )
    for name, column in RATES.items():
        per_row[f"rate.{name}"] = pd.to_numeric(frame[column], errors="coerce") if column in frame else np.nan

    subtypes: list[str] = []
    if "originatedBySubtype" in frame and "deliveredBySubtype" in frame:
        originated = counts_table(frame["originatedBySubtype"])
        delivered = counts_table(frame["deliveredBySubtype"])
        subtypes = sorted(set(originated.columns) | set(delivered.columns))
        room_window = [frame[k] for k in ("testId", "layer", "room", "window")]
        for subtype in subtypes:
            sent = originated[subtype] if subtype in originated else pd.Series(0, index=frame.index)
            got = delivered[subtype] if subtype in delivered else pd.Series(0, index=frame.index)
            per_row[f"delivered.{subtype}"] = got
            per_row[f"expected.{subtype}"] = sent.groupby(room_window).transform("sum") - sent

    per_row["window"] = frame["window"]
    per_row["timestamp"] = frame["timestamp"]
    return per_row, subtypes


def peer_samples(body: pd.DataFrame) -> PeerSamples:
    """Aggregate steady-state datapoints into per-peer samples."""
    per_row, subtypes = row_samples(body)
    frame = body
    keys = ["testId", "peerId"]
    per_row = per_row.drop(columns=["window", "timestamp"])
    sums = [c for c in per_row.columns if c not in keys and not c.startswith("rate.") and c != "connections"]
    grouped = per_row.groupby(keys, sort=True)
    table = grouped[sums].sum()
    table["hasDelivery"] = grouped["hasDelivery"].any()
    table["connections"] = grouped["connections"].mean()
    for name in RATES:
        table[f"rate.{name}"] = grouped[f"rate.{name}"].mean()
    table = table.reset_index()

    codes = frame.groupby(keys, sort=True).ngroup()
    histograms = {
        f"latency.{subtype}": bucket_counts(frame[column], codes)
        for subtype, column in LATENCY_COLUMNS.items()
        if column in frame
    }
    if "hops" in frame:
        histograms["hops"] = bucket_counts(frame["hops"], codes)
    return PeerSamples(table, histograms, subtypes)


def _length(value: Any) -> float:
    try:
        return float(len(value))
    except TypeError:
        return np.nan


def subset(samples: PeerSamples, rows: Iterable[int]) -> PeerSamples:
    """The samples of some peers (by row position), e.g. one test of several."""
    positions = list(rows)
    return PeerSamples(
        samples.table.iloc[positions].reset_index(drop=True),
        {name: counts[positions] for name, counts in samples.histograms.items()},
        samples.subtypes,
    )
