"""Which datapoints describe the steady state of a run.

Each host closes all its peers' windows at the same moment and numbers them (`window` 1, 2, ...);
hosts start together at the test's start signal, so window n means the same span on every host.
The steady state drops the warm-up windows, those covering the first `WARMUP_SECONDS` (the
routines' random start offsets of up to 3 s, and the mesh settling), and each host's last window,
which is partial (cut by the end of the test). Override with `warmup_windows` or `keep_last`.
Data without window numbers (the original's JSON) numbers each peer's datapoints in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from peerperf.analysis.thresholds import warmup_windows as default_warmup
from peerperf.protocol.metrics import BROWSER, PYTHON

#: Stats interval assumed when it cannot be read from the data (the original's 2 s).
DEFAULT_INTERVAL = 2.0


@dataclass(frozen=True)
class SteadyState:
    """How the steady windows were chosen, to be shown beside the figures."""

    warmup_windows: int
    keep_last: bool
    interval_s: float
    windows: int

    def describe(self) -> str:
        last = "" if self.keep_last else ", without each host's last (partial) window"
        return (
            f"{self.windows} steady windows of {self.interval_s:.1f} s: after {self.warmup_windows} warm-up "
            f"window(s){last}"
        )


#: Columns the analysis groups by: held as categories, each text factorised once instead of per groupby.
KEYS = ("testId", "peerId", "hostId", "nodeId", "layer", "room")


def with_windows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a `window` number on every row, a `testId` column if it had none, keys as categories, and
    each datapoint's `kind`: as reported, else `python` for peerperf's peers (they number their windows) and
    `browser` for datapoints without peerperf's fields (the original client's)."""
    out = frame if "testId" in frame else frame.assign(testId="")
    out = out.assign(kind=kinds(out), **{k: _sorted_category(out[k]) for k in KEYS if k in out})
    if "window" not in out or out["window"].isna().any():
        rank = out.sort_values("timestamp").groupby(["testId", "peerId"]).cumcount() + 1
        numbered = rank.reindex(out.index)
        out = out.assign(window=out["window"].fillna(numbered) if "window" in out else numbered)
    return out.assign(window=out["window"].astype("int64"))


def kinds(frame: pd.DataFrame) -> pd.Series:
    """Which client produced each datapoint (see `with_windows`)."""
    without = frame["window"].isna().to_numpy() if "window" in frame else np.ones(len(frame), bool)
    guessed = pd.Series(pd.Categorical.from_codes(without.astype(np.int8), [PYTHON, BROWSER]), index=frame.index)
    if "kind" not in frame or frame["kind"].isna().all():
        return guessed
    reported = frame["kind"].astype(object)
    return reported.where(reported.notna() & (reported != ""), guessed.astype(object)).astype("category")


def _sorted_category(column: pd.Series) -> pd.Series:
    """`column` as a category with its values in sorted order (groups come out in the same order
    whether the column was text or was read as a category in the file's order)."""
    if column.dtype != "category":
        return column.astype("category")
    categories = column.cat.categories
    return column if categories.is_monotonic_increasing else column.cat.reorder_categories(categories.sort_values())


def interval_seconds(frame: pd.DataFrame) -> float:
    """The stats interval: per peer, the time its datapoints span over the windows they span (median).

    Each peer's last window is left out: it is cut short by the end of the test.
    """
    if len(frame) < 2:
        return DEFAULT_INTERVAL
    frame = frame[["testId", "peerId", "window", "timestamp"]]  # never copy the histograms to filter
    frame = frame[frame["window"] < frame.groupby(["testId", "peerId"], observed=True)["window"].transform("max")]
    grouped = frame.groupby(["testId", "peerId"], observed=True)
    timestamps, windows = grouped["timestamp"].agg(["min", "max"]), grouped["window"].agg(["min", "max"])
    spans = windows["max"] - windows["min"]
    per_window = ((timestamps["max"] - timestamps["min"]) / spans)[spans > 0]
    return float(per_window.median()) / 1000 if len(per_window) else DEFAULT_INTERVAL


def steady(frame: pd.DataFrame, warmup: int | None = None, keep_last: bool = False) -> tuple[pd.DataFrame, SteadyState]:
    """The steady-state datapoints of `frame` (numbered by `with_windows`) and how they were chosen."""
    interval = interval_seconds(frame)
    warmup = default_warmup(interval) if warmup is None else warmup
    keep = frame["window"] > warmup
    if not keep_last and len(frame):
        owner = "hostId" if "hostId" in frame and frame["hostId"].notna().all() else "peerId"
        keep &= frame["window"] < frame.groupby(["testId", owner], observed=True)["window"].transform("max")
    # Arrow list and map columns (histograms, counts) stay in `frame`: copying a million of them costs
    # seconds, so the body records where its rows are (`_row`) and readers select them in place.
    flat = [c for c in frame.columns if not _is_nested(frame[c])]
    body = frame.loc[keep.to_numpy(), flat].assign(_row=np.flatnonzero(keep.to_numpy()))
    return body, SteadyState(warmup, keep_last, interval, int(body["window"].nunique()) if len(body) else 0)


def _is_nested(column: pd.Series) -> bool:
    dtype = column.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return False
    return bool(pa.types.is_list(dtype.pyarrow_dtype) or pa.types.is_map(dtype.pyarrow_dtype))
