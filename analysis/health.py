"""The harness verdict of a results file: its datapoints as host windows, judged by `verdict.judge`.

Host figures repeat on each datapoint of a host's window, so each (test, host, window) counts once;
the packets a host's peers received (by subtype) are summed over its peers, to name what coincided
with bursts. Vectorised: a million datapoints become host windows in well under a second.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa

from peerperf.analysis.histograms import as_arrow, flat_lists, nested
from peerperf.analysis.host_windows import HostWindows, Lazy
from peerperf.analysis.peers import counts_table
from peerperf.analysis.verdict import RunFacts, Verdict, judge


def host_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (test, host, window): host-wide figures repeat on each peer's datapoint."""
    if "hostId" not in frame or frame["hostId"].isna().all():
        return frame
    return frame.drop_duplicates(["testId", "hostId", "window"])  # keeps `_row`, where histograms are read


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def from_frame(body: pd.DataFrame, source: pd.DataFrame | None = None) -> HostWindows:
    """The host windows of `body`'s datapoints (`source`: where its nested columns are, see `windows.steady`)."""
    per_host = "hostId" in body and body["hostId"].notna().all()
    owner = "hostId" if per_host else "peerId"
    keys = [k for k in ("testId", owner, "window") if k in body]
    code = body.groupby(keys, observed=True, sort=False).ngroup().to_numpy()  # each datapoint's host window
    firsts = np.unique(code, return_index=True)[1]
    hosts = body.iloc[firsts]
    lag_row, lag_bucket, lag_count = _sparse(hosts, source)
    return HostWindows(
        host=_names(hosts, keys[:-1]),
        window=hosts["window"].to_numpy(dtype=np.int64),
        timestamp=_numbers(hosts, "timestamp"),
        node=_names(hosts, ["nodeId"] if "nodeId" in hosts else []),
        lag_row=lag_row,
        lag_bucket=lag_bucket,
        lag_count=lag_count,
        lag_p99_reported=_numbers(hosts, "tickLagP99"),
        missed=_numbers(hosts, "ticksMissed"),
        cpu=_numbers(hosts, "hostCpuPercent"),
        machine_cpu=_numbers(hosts, "machineCpuPercent"),
        machine_cpus=_numbers(hosts, "machineCpus"),
        activity=Lazy(functools.partial(_activity, body, source, code, len(hosts))),
    )


def _names(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Each row's `keys` joined by "/" (found once per distinct value, not once per row)."""
    if not keys:
        return np.full(len(frame), "", dtype=object)
    code = frame.groupby(keys, observed=True, sort=False, dropna=False).ngroup().to_numpy()
    distinct = frame[keys].iloc[np.unique(code, return_index=True)[1]]  # group n first appears n-th
    names = ["/".join("" if pd.isna(v) else str(v) for v in row) for row in distinct.itertuples(index=False)]
    return np.array(names, dtype=object)[code]


def _sparse(hosts: pd.DataFrame, source: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each host window's tick-lag histogram as (row, bucket, count) triplets."""
    found = nested(hosts, source, "tickLagMs")
    empty = np.zeros(0, dtype=np.int64)
    if found is None:
        return empty, empty, empty
    column, rows = found
    array = as_arrow(column)
    if rows is not None:
        array = array.take(pa.array(rows))
    if len(array) == 0 or pa.types.is_null(array.type):
        return empty, empty, empty
    lengths, flat = flat_lists(array)
    return np.repeat(np.arange(len(array)), lengths // 2), flat[0::2], flat[1::2]


def _activity(body: pd.DataFrame, source: pd.DataFrame | None, code: np.ndarray, hosts: int) -> dict[str, np.ndarray]:
    """Packets received by each host's peers in each window, by subtype (`code`: each datapoint's host window)."""
    found = nested(body, source, "receivedBySubtype")
    if found is None:
        return {}
    table = counts_table(*found)
    return {str(name): np.bincount(code, weights=table[name].to_numpy(float), minlength=hosts) for name in table}


def harness_verdict(
    body: pd.DataFrame,
    source: pd.DataFrame | None = None,
    facts: RunFacts | None = None,
    interval_s: float | None = None,
) -> Verdict:
    """The verdict over the datapoints given (usually the steady state; `source`: see `windows.steady`)."""
    return judge(from_frame(body, source), facts, interval_s)
