"""What every figure of a run is computed from, prepared once: the summary, its groups and comparisons share it.

A test's datapoints are numbered by window (`windows.with_windows`); those of peerperf's peers
(`kind` python) are the measurement; those of other clients (the original's browser client, whose
datapoints lack peerperf's fields) are counted apart (a test of other clients only is summarised from
what they report). The steady state is chosen from peerperf's
peers, their per-peer samples are built with exact delivery by origin window when the datapoints
carry it (`delivery.py`), and a layer where another client sends is left out of delivery: its
packets reach our peers but nobody reports creating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from peerperf.analysis.delivery import OriginDelivery, grace_windows, has_origin_windows, origin_delivery
from peerperf.analysis.histograms import as_arrow
from peerperf.analysis.peers import PeerSamples, peer_samples
from peerperf.analysis.windows import PYTHON, SteadyState, steady, with_windows
from peerperf.protocol.metrics import ARRIVAL_GRACE_S


@dataclass(frozen=True)
class Prepared:
    """A test's (or several tests') datapoints, ready for figures."""

    #: Every datapoint, numbered, with its `kind`.
    numbered: pd.DataFrame
    #: peerperf's peers' datapoints (every window): the measurement.
    ours: pd.DataFrame
    #: The steady state of `ours` (nested columns read from `ours` by `_row`).
    body: pd.DataFrame
    state: SteadyState
    samples: PeerSamples
    #: Other clients' datapoints, counted apart.
    others: pd.DataFrame
    delivery: OriginDelivery | None = None
    notes: list[str] = field(default_factory=list)


def prepare(
    frame: pd.DataFrame,
    warmup_windows: int | None = None,
    keep_last: bool = False,
    group: tuple[str, Any] | None = None,
) -> Prepared:
    """Number, split, choose the steady state and build the per-peer samples of `frame` (not empty).

    `group` (column, value) keeps only the steady datapoints with that value (a stage, say), and counts
    delivery to them as receivers, from every peer's packets."""
    numbered = with_windows(frame)
    python = (numbered["kind"] == PYTHON).to_numpy()
    notes = []
    if python.all() or not python.any():
        ours, others = numbered, numbered.iloc[0:0]  # no copy of the nested columns in the usual case
    else:
        ours, others = numbered[python], numbered[~python]
    body, state = steady(ours, warmup_windows, keep_last)
    if body.empty:
        notes.append("no steady-state windows (the run was too short): figures cover every window")
        body, state = steady(ours, 0, True)
        state = SteadyState(0, True, state.interval_s, state.windows)
    mixed = mixed_layers(ours, others)
    if mixed is not None and mixed.any():
        notes.append(
            f"{others['peerId'].nunique()} peers of another client (no peerperf fields) send in "
            f"{_layers_named(ours, mixed)}: nobody reports what they create, so delivery leaves these layers out"
        )
    if group is not None:
        body = body[(body[group[0]] == group[1]).to_numpy()]
    delivery = None
    if has_origin_windows(ours):
        counted = ours if mixed is None or not mixed.any() else ours[~mixed]
        grace = grace_windows(ARRIVAL_GRACE_S, state.interval_s)
        receiving = None if group is None else (counted[group[0]] == group[1]).to_numpy()
        delivery = origin_delivery(counted, state.warmup_windows + 1, grace, receiving) if len(counted) else None
        if delivery is not None:
            notes += delivery.notes
    samples = peer_samples(body, ours, delivery)
    if delivery is None and mixed is not None and mixed.any():
        _leave_out(samples, ours, mixed)
    return Prepared(numbered, ours, body, state, samples, others, delivery, notes)


def mixed_layers(ours: pd.DataFrame, others: pd.DataFrame) -> np.ndarray | None:
    """Which of `ours`' rows are in a layer another client's peers are connected into (None: no other client).

    A layer is mixed when one of our peers lists another client's peer among its connections, or that
    peer lists one of ours; without connection lists every layer counts as mixed.
    """
    if others.empty:
        return None
    foreign = set(others["peerId"].astype(str))
    layer = ours["layer"].astype(object).fillna("").astype(str) if "layer" in ours else ""  # none: one layer
    layer_key = ours["testId"].astype(str) + "/" + layer
    if "connectedPeers" not in ours:
        return np.ones(len(ours), bool)
    touching = _lists_any(ours["connectedPeers"], foreign)
    ours_ids = set(ours["peerId"].astype(str))
    if "connectedPeers" in others:
        reached = _listed(others["connectedPeers"]) & ours_ids
        touching |= ours["peerId"].astype(str).isin(reached).to_numpy()
    mixed_keys = set(layer_key[touching])
    return layer_key.isin(mixed_keys).to_numpy()


def _lists_any(column: pd.Series, ids: set[str]) -> np.ndarray:
    """Whether each row's list holds any of `ids`."""
    array = as_arrow(column)
    if len(array) == 0 or pa.types.is_null(array.type):
        return np.zeros(len(column), bool)
    hits = pc.is_in(pc.list_flatten(array), value_set=pa.array(sorted(ids))).to_numpy(zero_copy_only=False)
    owners = pc.list_parent_indices(array).to_numpy()
    out = np.zeros(len(column), bool)
    out[owners[hits]] = True
    return out


def _listed(column: pd.Series) -> set[str]:
    array = as_arrow(column)
    if len(array) == 0 or pa.types.is_null(array.type):
        return set()
    return {str(v) for v in pc.unique(pc.list_flatten(array)).to_pylist()}


def _layers_named(ours: pd.DataFrame, mixed: np.ndarray) -> str:
    if "layer" not in ours:
        return "the test (no layers reported)"
    names = sorted({str(v) or "(no layer)" for v in ours.loc[mixed, "layer"].astype(object).fillna("")})
    return f"layer {', '.join(names)}" if len(names) < 6 else f"{len(names)} layers"


def _leave_out(samples: PeerSamples, ours: pd.DataFrame, mixed: np.ndarray) -> None:
    """Delivery counted by stats window: peers of a mixed layer count neither arrivals nor expectations."""
    peers = ours.loc[mixed, ["testId", "peerId"]].astype(str).drop_duplicates()
    keys = set(zip(peers["testId"], peers["peerId"], strict=True))
    rows = [(str(t), str(p)) in keys for t, p in zip(samples.table["testId"], samples.table["peerId"], strict=True)]
    columns = [c for c in samples.table.columns if c.split(".")[0] in ("arrived", "expected")]
    samples.table.loc[rows, columns] = 0
