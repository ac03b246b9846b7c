"""Exact delivery: the packets created in the steady state's windows against the first arrivals they got.

Every peer counts the flooded packets it creates by *origin window* (`originatedByWindow`), and every
receiver counts its first arrivals by the same origin window (`arrivedByWindow`), a function of the
packet's timestamp alone (`peerperf.peer.origin_windows`). So for a layer and origin window w:

    delivered(w) = sum over receivers r of R(w) of r's first arrivals of packets of window w
    expected(w)  = sum over sources s of the layer of s's packets of window w x (|R(w)| - [s in R(w)])

where R(w) are the layer's peers that reported window w and had counted by window before it (a
receiver counts by window once its host has the grid: from its second window on). Each receiver
counts each packet once, so delivered(w) <= expected(w) whenever every packet created in w was
reported by its source; the windows where that cannot be vouched for are left out for the layer:

- those whose arrivals were not all counted yet when a peer's reports end: from `grace` windows
  before a peer's last window (its last one is partial: the test ended in it) to one after it;
- those around a window a peer did not report (refused, or its host skipped it): the packets of
  the windows next to a missing one may have been counted in it.

Arrivals count whenever they were reported, so those up to the grace period after the steady state
count. App messages to rooms are counted the same way per room and subtype (keys `w/subtype`), with
membership following the peers as they move (`rooms`, `roomMoves`): the expected receivers of a room's
packets of window w are the peers that were in that room, and only it, for all of w and its grace
windows (no move from w to w + grace); a room's window w is left out when a peer that sends there moved
in w (its packets of w went partly to its old room, partly to its new one).
A peer that sends without ever reporting (another client) makes a layer's count too high: the
summary leaves such layers out (see `prepared.mixed_layers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from peerperf.analysis.histograms import as_arrow, nested

#: The two counts columns.
ORIGINATED, ARRIVED = "originatedByWindow", "arrivedByWindow"


@dataclass(frozen=True)
class OriginDelivery:
    """Per peer as a receiver: first arrivals and what it should have got, over the windows counted."""

    #: Index (testId, peerId); columns `arrived`, `expected`, and `arrived.<subtype>`, `expected.<subtype>`.
    per_peer: pd.DataFrame
    #: Index: origin window; columns `arrived`, `expected` (all layers together), for plots.
    per_window: pd.DataFrame
    subtypes: list[str]
    #: Origin windows counted, over all tests and layers (a layer's window counts once).
    windows: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Counts:
    """A counts column flattened: entry i counts `count[i]` for datapoint `row[i]` under key `keys[key[i]]`,
    each key an origin window and a subtype ("": every flooded packet)."""

    row: np.ndarray
    key: np.ndarray
    count: np.ndarray
    keys: list[tuple[int, str]]

    @property
    def names(self) -> set[str]:
        return {subtype for _, subtype in self.keys if subtype}


def has_origin_windows(frame: pd.DataFrame) -> bool:
    """Whether the datapoints count by origin window (peers outside a run, without a grid, send empty counts)."""
    if ORIGINATED not in frame or ARRIVED not in frame:
        return False
    array = _pairs(frame, ORIGINATED)
    return array is not None and int(pc.sum(pc.list_value_length(array)).as_py() or 0) > 0


def origin_delivery(frame: pd.DataFrame, first: int, grace: int, receiving: np.ndarray | None = None) -> OriginDelivery:
    """Exact delivery over origin windows `first`.. (numbered datapoints of peerperf's peers, every window,
    nested columns included); `grace`: windows after an origin window in which its arrivals may come.
    `receiving` (a flag per row) counts only those datapoints' windows as receivers, e.g. one stage's: the
    sources are still every peer of the layer, so a group's delivery is as exact as the whole run's."""
    peers = frame.groupby(["testId", "peerId"], observed=True, sort=True).ngroup().to_numpy()
    layers = frame.groupby(["testId", "layer"], observed=True, sort=False, dropna=False).ngroup().to_numpy()
    rooms = frame.groupby(["testId", "layer", "room"], observed=True, sort=False, dropna=False).ngroup().to_numpy()
    window = frame["window"].to_numpy(dtype=np.int64)
    width = int(window.max()) + 2 if len(window) else 2
    n_peers, n_layers, n_rooms = _count(peers), _count(layers), _count(rooms)

    present = np.zeros((n_peers, width), bool)
    present[peers, window] = True
    layer_at = np.full((n_peers, width), -1)
    layer_at[peers, window] = layers
    room_at = np.full((n_peers, width), -1)
    room_at[peers, window] = rooms
    firsts = np.full(n_peers, width)
    np.minimum.at(firsts, peers, window)
    lasts = np.full(n_peers, -1)
    np.maximum.at(lasts, peers, window)

    in_room = _stayed(frame, peers, window, rooms, room_at, n_rooms, grace)
    countable = ~_doubtful(peers, layers, present, firsts, lasts, n_layers, grace)
    countable[:, : max(first, 1)] = False
    counted = np.arange(width) > firsts[:, None]
    receivers = present & counted & countable[np.maximum(layer_at, 0), np.arange(width)] & (layer_at >= 0)
    if receiving is not None:
        in_group = np.zeros_like(present)
        in_group[peers[receiving], window[receiving]] = True
        receivers &= in_group

    made, got = _entries(frame, ORIGINATED), _entries(frame, ARRIVED)
    names = sorted(made.names | got.names)
    own = _cube(peers[made.row], made, names, n_peers, width)
    arrivals = _cube(peers[got.row], got, names, n_peers, width)
    layer_total = _cube(layers[made.row], made, [], n_layers, width)[0]
    room_total = _cube(rooms[made.row], made, names, n_rooms, width)
    columns = np.arange(width)
    out: dict[str, np.ndarray] = {}
    per_window: dict[str, np.ndarray] = {}
    for s, name in [(-1, ""), *enumerate(names)]:
        total = (
            layer_total[np.maximum(layer_at, 0), columns]
            if s < 0
            else room_total[s + 1][np.maximum(room_at, 0), columns]
        )
        receiving_here = receivers if s < 0 else receivers & in_room
        expected = np.where(receiving_here, total - own[s + 1], 0)
        arrived = np.where(receiving_here, arrivals[s + 1], 0)
        suffix = f".{name}" if name else ""
        out[f"arrived{suffix}"], out[f"expected{suffix}"] = arrived.sum(axis=1), expected.sum(axis=1)
        if not name:
            per_window = {"arrived": arrived.sum(axis=0), "expected": expected.sum(axis=0)}
    keys = frame.groupby(["testId", "peerId"], observed=True, sort=True).size().index
    per_peer = pd.DataFrame(out, index=keys)
    table = pd.DataFrame(per_window).rename_axis("window")
    table = table[table["expected"] > 0]
    used = int((receivers.any(axis=0) if n_peers else np.zeros(width, bool)).sum())
    return OriginDelivery(per_peer, table, names, _windows_counted(receivers, layer_at, n_layers), _notes(used))


def _stayed(
    frame: pd.DataFrame,
    peers: np.ndarray,
    window: np.ndarray,
    rooms: np.ndarray,
    room_at: np.ndarray,
    n_rooms: int,
    grace: int,
) -> np.ndarray:
    """(peer, origin window) pairs where the peer counts as a receiver of its room's messages: in that room
    alone (its `rooms` are just its `room`), no move of its own from the window to `grace` after it, and
    no move in the window by a peer sending to that room before or after the move."""
    width = room_at.shape[1]
    alone = np.zeros(room_at.shape, bool)
    single = _alone(frame)
    alone[peers[single], window[single]] = True
    if "roomMoves" not in frame:
        return alone
    moves = frame["roomMoves"].fillna(0).to_numpy(dtype=np.int64) > 0
    moved = np.zeros(room_at.shape, bool)
    moved[peers[moves], window[moves]] = True
    since = np.concatenate([np.zeros((len(moved), 1), np.int64), np.cumsum(moved, axis=1)], axis=1)
    ahead = np.minimum(np.arange(width) + grace + 1, width)
    still = since[:, ahead] - since[:, :width] == 0
    left = np.zeros((max(n_rooms, 1), width), bool)
    mover, at = np.nonzero(moved)
    for rooms_then in (room_at[mover, at], room_at[mover, np.maximum(at - 1, 0)]):
        known = rooms_then >= 0
        left[rooms_then[known], at[known]] = True
    return alone & still & ~left[np.maximum(room_at, 0), np.arange(width)]


def _alone(frame: pd.DataFrame) -> np.ndarray:
    """Per datapoint: whether the peer was in its `room` only (no `rooms` reported: it never moves)."""
    if "rooms" not in frame:
        return np.ones(len(frame), bool)
    array = as_arrow(frame["rooms"])
    if len(array) == 0 or pa.types.is_null(array.type):
        return np.ones(len(frame), bool)
    lengths = pc.fill_null(pc.list_value_length(array), -1).to_numpy(zero_copy_only=False)
    only = np.full(len(frame), None, object)
    only[pc.list_parent_indices(array).to_numpy()] = pc.list_flatten(array).to_numpy(zero_copy_only=False)
    room = frame["room"].astype(object).to_numpy() if "room" in frame else np.full(len(frame), None, object)
    return (lengths == -1) | ((lengths == 1) & (only == room))


def _count(codes: np.ndarray) -> int:
    return int(codes.max()) + 1 if len(codes) else 0


def _doubtful(
    peers: np.ndarray,
    layers: np.ndarray,
    present: np.ndarray,
    firsts: np.ndarray,
    lasts: np.ndarray,
    n_layers: int,
    grace: int,
) -> np.ndarray:
    """(layer, origin window) pairs whose packets may not all have been reported, or their arrivals counted:
    from `grace` windows before each peer's last window to one after it, and the same around each window a
    peer did not report within its span."""
    width = present.shape[1]
    span = np.arange(width)
    gap_peer, gap_window = np.nonzero(~present & (span > firsts[:, None]) & (span < lasts[:, None]))
    around = pd.DataFrame(
        {
            "peer": np.concatenate([np.arange(len(lasts)), gap_peer]),
            "window": np.concatenate([lasts, gap_window]),
        }
    )
    member = pd.DataFrame({"peer": peers, "layer": layers}).drop_duplicates()
    ranges = around.merge(member, on="peer")
    marks = np.zeros((max(n_layers, 1), width + grace + 3), np.int64)
    owner = ranges["layer"].to_numpy()
    np.add.at(marks, (owner, np.clip(ranges["window"].to_numpy() - grace, 0, None)), 1)
    np.add.at(marks, (owner, ranges["window"].to_numpy() + 2), -1)
    return (np.cumsum(marks, axis=1) > 0)[:, :width]


def _pairs(frame: pd.DataFrame, column: str) -> pa.Array | None:
    """A counts column as Arrow lists of (key, value) pairs (maps read as the lists they are)."""
    found = nested(frame, None, column)
    if found is None:
        return None
    series = found[0]
    if series.dtype == object:
        values = [dict(v) if isinstance(v, dict | list) else None for v in series.tolist()]
        array = pa.array(values, type=pa.map_(pa.string(), pa.int64()))
    else:
        array = as_arrow(series)
    if pa.types.is_null(array.type):
        return None
    return array.cast(pa.list_(pa.struct([("key", array.type.key_type), ("value", array.type.item_type)])))


def _entries(frame: pd.DataFrame, column: str) -> _Counts:
    """A counts column's entries, their keys parsed once per distinct key."""
    array = _pairs(frame, column)
    empty = np.zeros(0, np.int64)
    if array is None or len(array) == 0:
        return _Counts(empty, empty, empty, [])
    flat = pc.list_flatten(array)
    keys = pc.struct_field(flat, 0)
    if not pa.types.is_dictionary(keys.type):  # read from Parquet they already are (`results_files.load_datapoints`)
        keys = keys.dictionary_encode()
    return _Counts(
        pc.list_parent_indices(array).to_numpy(),
        keys.indices.to_numpy(zero_copy_only=False),
        pc.struct_field(flat, 1).to_numpy(zero_copy_only=False),
        [_parse(str(k)) for k in keys.dictionary.to_pylist()],
    )


def _parse(key: str) -> tuple[int, str]:
    """`"12"` -> (12, ""); `"12/chat"` -> (12, "chat"); anything else -> (0, ""), a window never counted."""
    window, _, subtype = key.partition("/")
    try:
        return int(window), subtype
    except ValueError:
        return 0, ""


def _cube(owner: np.ndarray, counts: _Counts, names: list[str], owners: int, width: int) -> np.ndarray:
    """Counts summed per (subtype, owner, window) into a (len(names) + 1, owners, width) array: subtype 0
    is every flooded packet, 1.. `names` (other subtypes, and windows outside 1 .. width - 1, left out)."""
    rows, owners = owners, max(owners, 1)
    window = np.array([w for w, _ in counts.keys] or [0], np.int64)
    subtype = np.array([names.index(s) + 1 if s in names else (0 if not s else -1) for _, s in counts.keys] or [-1])
    per_key = np.where((window >= 1) & (window < width) & (subtype >= 0), subtype * owners * width + window, -1)
    key = per_key[counts.key]
    keep = key >= 0
    key = key + owner * width
    flat = np.bincount(key[keep], weights=counts.count[keep], minlength=(len(names) + 1) * owners * width)
    return flat.reshape(len(names) + 1, owners, width)[:, :rows]


def _windows_counted(receivers: np.ndarray, layer_at: np.ndarray, n_layers: int) -> int:
    """Distinct (layer, origin window) pairs with at least one receiver."""
    peer, window = np.nonzero(receivers)
    return len(np.unique(layer_at[peer, window] * receivers.shape[1] + window)) if len(peer) else 0


def _notes(used: int) -> list[str]:
    return [] if used else ["no origin window could be counted: delivery is unknown"]


def grace_windows(grace_s: float, interval_s: float) -> int:
    """Windows after an origin window in which its packets may still arrive. The interval is measured from
    timestamps (1.9998 s for 2 s windows), so a ratio within 1 % of a whole number counts as that number."""
    return max(1, math.ceil(grace_s / interval_s - 0.01))
