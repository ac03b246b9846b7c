"""Per-peer samples of a run's steady state: the unit that summaries aggregate and comparisons resample.

Every figure of the summary is a statistic over peers that can be recomputed from any subset of
them: a ratio of sums (delivery, loss), a mean of per-peer means (throughput), or percentiles of
merged histograms (latency, hops). Comparisons resample peers and recompute the same statistic.

Delivery is counted against what each peer should have received: exactly, by origin window, when the
datapoints carry counts by window (`peerperf.analysis.delivery`); otherwise (older files) by stats
window: in window w of layer L with m reporting peers, every flooded packet originated there should
reach the m - 1 others, and a one-hop packet (suspendRelay) exactly one neighbour, so packets in
flight across a window's edge count on one side only. Room traffic (app messages, by subtype) is
counted the same way over the peers of each room.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from peerperf.analysis.delivery import OriginDelivery
from peerperf.analysis.histograms import as_arrow, bucket_counts, nested

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


def counts_table(column: pd.Series, positions: np.ndarray | None = None) -> pd.DataFrame:
    """A counts column (JSON objects, or Parquet maps) as one integer column per name.

    Rows as `column`, or only those at `positions` (see `peerperf.analysis.histograms.nested`).
    """
    table = _counts_table(column)
    return table if positions is None else table.iloc[positions]


def _counts_table(column: pd.Series) -> pd.DataFrame:
    rows = len(column)
    if column.dtype == object:  # Python objects: dicts from JSON, pairs from Parquet read by pandas
        column = pd.Series([_as_dict(v) or None for v in column.tolist()], index=column.index, dtype=object)
        array = pa.array(column.tolist(), type=pa.map_(pa.string(), pa.int64())) if rows else None
    else:
        array = as_arrow(column)
    if array is None or len(array) == 0 or pa.types.is_null(array.type):
        return pd.DataFrame(index=column.index)
    if pa.types.is_map(array.type):  # list kernels abort on maps: read it as the list of pairs it is
        array = array.cast(pa.list_(pa.struct([("key", array.type.key_type), ("value", array.type.item_type)])))
    owner = pc.list_parent_indices(array).to_numpy()
    flat = pc.list_flatten(array)
    keys = pc.struct_field(flat, 0).dictionary_encode()
    values = pc.struct_field(flat, 1).to_numpy(zero_copy_only=False).astype(np.int64)
    names = keys.dictionary.to_pylist()
    code = keys.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    merged = np.bincount(code * rows + owner, weights=values, minlength=len(names) * rows).astype(np.int64)
    table = {str(name): merged[i * rows : (i + 1) * rows] for i, name in enumerate(names)}
    return pd.DataFrame(table, index=column.index)


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


def row_samples(
    body: pd.DataFrame, source: pd.DataFrame | None = None, by_stats_window: bool = True
) -> tuple[pd.DataFrame, list[str]]:
    """Per datapoint: what it counted (and, `by_stats_window`, what it should have counted: see the module's
    docstring); and the app subtypes seen.

    `source` holds the nested columns `body` left out (see `peerperf.analysis.windows.steady`).
    """
    frame = body.assign(layer=_text_key(body, "layer"), room=_text_key(body, "room"))
    unique = _column(frame, "uniqueReceived")
    per_row = pd.DataFrame(
        {
            "testId": frame["testId"],
            "peerId": frame["peerId"],
            "windows": 1,
            "unique": unique,
            "lost": _column(frame, "missing") - _column(frame, "lateArrivals"),
            "arrivedExpired": _column(frame, "arrivedExpired"),
            "receivedWindow": _column(frame, "received"),
            "duplicateWindow": _column(frame, "duplicate"),
            "connections": _connections(frame, source),
            "hasDelivery": frame["uniqueReceived"].notna() if "uniqueReceived" in frame else False,
        }
    )
    for name, column in RATES.items():
        per_row[f"rate.{name}"] = pd.to_numeric(frame[column], errors="coerce") if column in frame else np.nan
    subtypes: list[str] = []
    if by_stats_window:
        delivery, subtypes = _by_stats_window(frame, source)
        per_row = per_row.assign(**delivery)
    per_row["window"] = frame["window"]
    per_row["timestamp"] = frame["timestamp"]
    return per_row, subtypes


def _by_stats_window(frame: pd.DataFrame, source: pd.DataFrame | None) -> tuple[dict[str, pd.Series], list[str]]:
    """Delivery by stats window (older files): each datapoint's arrivals and what it should have got."""
    layer_window = _Groups(frame, ["testId", "layer", "window"])
    flooded = _column(frame, "originated") - _column(frame, "originatedOneHop")
    one_hop = _column(frame, "originatedOneHop")
    members = layer_window.distinct(frame["peerId"])
    others = pd.Series(np.where(members > 1, members - 1, np.nan), index=frame.index)
    flooded_total, one_hop_total = layer_window.total(flooded), layer_window.total(one_hop)
    out = {
        "arrived": _column(frame, "uniqueReceived"),
        "expected": ((flooded_total - flooded) + (one_hop_total - one_hop) / others).fillna(0),
    }
    sent_by = nested(frame, source, "originatedBySubtype")
    got_by = nested(frame, source, "deliveredBySubtype")
    if sent_by is None or got_by is None:
        return out, []
    originated = counts_table(*sent_by).set_axis(frame.index)
    delivered = counts_table(*got_by).set_axis(frame.index)
    subtypes = sorted(set(originated.columns) | set(delivered.columns))
    room_window = _Groups(frame, ["testId", "layer", "room", "window"])
    zero = pd.Series(0, index=frame.index)
    for subtype in subtypes:
        sent = originated.get(subtype, zero)
        out[f"arrived.{subtype}"] = delivered.get(subtype, zero)
        out[f"expected.{subtype}"] = room_window.total(sent) - sent
    return out, subtypes


def _text_key(frame: pd.DataFrame, name: str) -> pd.Series | str:
    """A text key column with "" for missing values (a category column gets "" as a category first)."""
    if name not in frame:
        return ""
    column = frame[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        if "" not in column.cat.categories:
            column = column.cat.add_categories("")
        return column.fillna("")
    return column.fillna("")


class _Groups:
    """The groups of `keys` as one integer code per row, found once and reused by every per-group total
    (a pandas groupby would factorise the keys again for each)."""

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        self.index = frame.index
        self.codes = frame.groupby(keys, observed=True, sort=False, dropna=False).ngroup().to_numpy()
        self.count = int(self.codes.max()) + 1 if len(self.codes) else 0

    def total(self, values: pd.Series) -> pd.Series:
        """Each row's group total (`groupby(keys).transform("sum")`), integers staying integers."""
        sums = np.bincount(self.codes, weights=values.to_numpy(dtype=float), minlength=self.count)[self.codes]
        integral = pd.api.types.is_integer_dtype(values.dtype)
        return pd.Series(sums.astype(np.int64) if integral else sums, index=self.index)

    def distinct(self, column: pd.Series) -> np.ndarray:
        """Each row's number of distinct non-null values of `column` in its group (`transform("nunique")`)."""
        values = (
            column.cat.codes.to_numpy() if isinstance(column.dtype, pd.CategoricalDtype) else pd.factorize(column)[0]
        )
        present = values >= 0
        pairs = pd.unique(self.codes[present].astype(np.int64) * (int(values.max()) + 1) + values[present])
        per_group = np.bincount(pairs // (int(values.max()) + 1), minlength=self.count)
        return per_group[self.codes]


def peer_samples(
    body: pd.DataFrame, source: pd.DataFrame | None = None, delivery: OriginDelivery | None = None
) -> PeerSamples:
    """Aggregate steady-state datapoints into per-peer samples (`source`: see `row_samples`); `delivery`, when
    the datapoints count by origin window, replaces the delivery counted by stats window."""
    per_row, subtypes = row_samples(body, source, by_stats_window=delivery is None)
    if delivery is not None:
        subtypes = delivery.subtypes
    keys = ["testId", "peerId"]
    per_row = per_row.drop(columns=["window", "timestamp"])
    sums = [c for c in per_row.columns if c not in keys and not c.startswith("rate.") and c != "connections"]
    grouped = per_row.groupby(keys, sort=True, observed=True)
    table = grouped[sums].sum()
    table["hasDelivery"] = grouped["hasDelivery"].any()
    table["connections"] = grouped["connections"].mean()
    for name in RATES:
        table[f"rate.{name}"] = grouped[f"rate.{name}"].mean()
    if delivery is not None:
        table = table.join(delivery.per_peer).fillna({c: 0 for c in delivery.per_peer.columns})
    table = table.reset_index()

    codes = grouped.ngroup()  # per_row has body's rows, in order
    histograms = {}
    for name, column in [*((f"latency.{s}", c) for s, c in LATENCY_COLUMNS.items()), ("hops", "hops")]:
        found = nested(body, source, column)
        if found is not None:
            histograms[name] = bucket_counts(found[0], codes, found[1])
    return PeerSamples(table, histograms, subtypes)


def _connections(frame: pd.DataFrame, source: pd.DataFrame | None) -> np.ndarray:
    """Connections per datapoint: the count when reported, else the length of `connectedPeers`."""
    counted = _column(frame, "connectedPeersCount", np.nan).to_numpy(dtype=float)
    ids = nested(frame, source, "connectedPeers")
    if ids is not None and np.isnan(counted).any():
        lengths = _lengths(ids[0])
        counted = np.where(np.isnan(counted), lengths if ids[1] is None else lengths[ids[1]], counted)
    return counted


def _lengths(column: pd.Series) -> np.ndarray:
    """Length of each list (connected peer ids); NaN where the value is missing."""
    array = as_arrow(column) if column.dtype != object else pa.array([v if _is_list(v) else None for v in column])
    if pa.types.is_null(array.type):
        return np.full(len(column), np.nan)
    return pc.list_value_length(array).to_numpy(zero_copy_only=False).astype(float)


def _is_list(value: Any) -> bool:
    return value is not None and not isinstance(value, float | str)


def subset(samples: PeerSamples, rows: Iterable[int]) -> PeerSamples:
    """The samples of some peers (by row position), e.g. one test of several."""
    positions = list(rows)
    return PeerSamples(
        samples.table.iloc[positions].reset_index(drop=True),
        {name: counts[positions] for name, counts in samples.histograms.items()},
        samples.subtypes,
    )
