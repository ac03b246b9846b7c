"""Which datapoints describe the steady state of a run.

Each host closes all its peers' windows at the same moment and numbers them (`window` 1, 2, ...);
hosts start together at the test's start signal, so window n means the same span on every host.
The steady state drops the warm-up windows, those covering the first `WARMUP_SECONDS` (the
routines' random start offsets of up to 3 s, and the mesh settling), and each host's last window,
which is partial (cut by the end of the test). Override with `warmup_windows` or `keep_last`.
Data without window numbers (the original's JSON) numbers each peer's datapoints in time order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

#: Seconds from the start treated as warm-up by default.
WARMUP_SECONDS = 4.0
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


def with_windows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a `window` number on every row, and a `testId` column if it had none."""
    out = frame if "testId" in frame else frame.assign(testId="")
    if "window" not in out or out["window"].isna().any():
        rank = out.sort_values("timestamp").groupby(["testId", "peerId"]).cumcount() + 1
        numbered = rank.reindex(out.index)
        out = out.assign(window=out["window"].fillna(numbered) if "window" in out else numbered)
    return out.assign(window=out["window"].astype("int64"))


def interval_seconds(frame: pd.DataFrame) -> float:
    """The stats interval: the median gap between a peer's consecutive datapoints."""
    if len(frame) < 2:
        return DEFAULT_INTERVAL
    gaps = frame.sort_values("timestamp").groupby(["testId", "peerId"])["timestamp"].diff().dropna()
    return float(gaps.median()) / 1000 if len(gaps) else DEFAULT_INTERVAL


def steady(
    frame: pd.DataFrame, warmup_windows: int | None = None, keep_last: bool = False
) -> tuple[pd.DataFrame, SteadyState]:
    """The steady-state datapoints of `frame` (numbered by `with_windows`) and how they were chosen."""
    interval = interval_seconds(frame)
    # A hair under a whole number of windows (datapoints arrive a few ms apart) still rounds down.
    warmup = math.ceil(WARMUP_SECONDS / interval - 0.05) if warmup_windows is None else warmup_windows
    body = frame[frame["window"] > warmup]
    if not keep_last and len(body):
        owner = "hostId" if "hostId" in body and body["hostId"].notna().all() else "peerId"
        last = body.groupby(["testId", owner])["window"].transform("max")
        body = body[body["window"] < last]
    return body, SteadyState(warmup, keep_last, interval, int(body["window"].nunique()) if len(body) else 0)
