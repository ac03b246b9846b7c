"""The mesh as the lighthouse saw it over time: graphs from its topology samples, a layout that stays
put between moments, and which moments to draw.

Pure (no plotting, no files): `report_mesh` draws what this computes. The run samples each layer's
`GET /layers/{layer}/topology` every few seconds, one sample per layer; the samples of one pass over
the layers make one `Mesh`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Samples of one pass over the layers are taken one after another; a sample this long after the pass's
#: first starts a new pass even if its layer is new (a pass that skipped a layer). Well under the sampling
#: interval (5 s by default), well over a pass's few requests; at most half the interval (`pass_gap_ms`).
PASS_GAP_MS = 2000
#: Most moments a report draws the mesh at.
MOST_MOMENTS = 6


@dataclass(frozen=True)
class Mesh:
    """The mesh at one moment: every peer the lighthouse listed in one pass, each connection once."""

    #: When the pass's first sample was stored (ms, the results service's clock, as datapoints').
    timestamp: int
    #: Peer id -> its layer.
    layers: Mapping[str, str]
    #: Undirected connections `(a, b)`, `a < b`, reported by either end; ends the pass does not list are left out.
    edges: frozenset[tuple[str, str]]

    @property
    def peers(self) -> list[str]:
        return sorted(self.layers)

    def connections(self) -> dict[str, int]:
        """Connections per peer (its degree in this mesh), every peer listed."""
        degree = dict.fromkeys(self.layers, 0)
        for a, b in self.edges:
            degree[a] += 1
            degree[b] += 1
        return degree


@dataclass(frozen=True)
class Meshes:
    """The run's meshes in time order, and how many samples were not in the lighthouse's topology format."""

    meshes: list[Mesh]
    unreadable: int = 0


@dataclass(frozen=True)
class Moment:
    """A mesh to draw: its index in `Meshes.meshes` and why it was chosen ("start", "stage 2 begins", "end")."""

    index: int
    label: str


def pass_gap_ms(interval_s: object) -> float:
    """The gap that starts a new pass for a run sampled every `interval_s` (its `topology_interval` setting)."""
    return min(PASS_GAP_MS, float(interval_s) * 500) if isinstance(interval_s, int | float) else PASS_GAP_MS


def meshes(samples: Iterable[tuple[int, Any]], gap_ms: float = PASS_GAP_MS) -> Meshes:
    """Group `(timestamp ms, topology body)` samples into one mesh per pass over the layers.

    A body is the lighthouse's topology: a list of `{id, layer, connectedPeerIds}`. Anything else (the
    results API accepts any JSON) is counted as unreadable and skipped, so a stray body costs one sample.
    """
    passes: list[list[list[dict[str, Any]]]] = []
    seen: set[str] = set()
    start = -math.inf
    unreadable = 0
    ordered = sorted(samples, key=lambda s: s[0])
    stamps: list[int] = []
    for timestamp, body in ordered:
        entries = _entries(body)
        if entries is None:
            unreadable += 1
            continue
        if not entries:
            continue  # a layer with nobody in it: nothing to draw
        layer = str(entries[0].get("layer", ""))
        if not passes or layer in seen or timestamp - start > gap_ms:
            passes.append([])
            stamps.append(timestamp)
            seen, start = set(), timestamp
        passes[-1].append(entries)
        seen.add(layer)
    return Meshes([_mesh(stamp, layers) for stamp, layers in zip(stamps, passes, strict=True)], unreadable)


def _entries(body: Any) -> list[dict[str, Any]] | None:
    """The body's peers when it is the lighthouse's topology format, else None."""
    if not isinstance(body, list):
        return None
    for entry in body:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            return None
        if not isinstance(entry.get("connectedPeerIds", []), list):
            return None
    return body


def _mesh(timestamp: int, samples: list[list[dict[str, Any]]]) -> Mesh:
    layers = {str(e["id"]): str(e.get("layer", "")) for entries in samples for e in entries}
    edges = {
        (min(a, b), max(a, b))
        for entries in samples
        for e in entries
        for other in e.get("connectedPeerIds", [])
        if (a := str(e["id"])) != (b := str(other)) and b in layers
    }
    return Mesh(timestamp, layers, frozenset(edges))


@dataclass(frozen=True)
class Layout:
    """Where each peer is drawn (the same at every moment), and the centre of each layer's circle."""

    positions: dict[str, tuple[float, float]]
    centres: dict[str, tuple[float, float]]


def layout(meshes: Sequence[Mesh], groups: Mapping[str, str] | None = None) -> Layout:
    """A position for every peer of every mesh, the same at every moment, so a person sees the mesh re-form.

    Each layer is a circle of radius 1 (layers in a grid, in natural order of name); a peer sits on its
    first layer's circle, ordered by its group (room: rooms become arcs), then id (a replacement instance,
    `<id>-s2`, next to the one it replaced). No randomness: the same run always draws the same.
    """
    groups = groups or {}
    first_layer: dict[str, str] = {}
    for mesh in meshes:
        for peer, layer in mesh.layers.items():
            first_layer.setdefault(peer, layer)
    by_layer: dict[str, list[str]] = {}
    for peer, layer in first_layer.items():
        by_layer.setdefault(layer, []).append(peer)
    columns = max(1, math.ceil(math.sqrt(len(by_layer))))
    drawn = Layout({}, {})
    for k, layer in enumerate(sorted(by_layer, key=natural)):
        x, y = drawn.centres[layer] = (2.5 * (k % columns), -2.5 * (k // columns))
        peers = sorted(by_layer[layer], key=lambda p: (natural(groups.get(p, "")), p))
        angles = math.pi / 2 - 2 * math.pi * np.arange(len(peers)) / len(peers)  # clockwise from the top
        for peer, angle in zip(peers, angles, strict=True):
            drawn.positions[peer] = (x + math.cos(angle), y + math.sin(angle))
    return drawn


def natural(name: str) -> tuple[Any, ...]:
    """Sort key putting `blue-2` before `blue-10`."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def moments(timestamps: Sequence[int], marks: Sequence[tuple[int, str]] = (), most: int = MOST_MOMENTS) -> list[Moment]:
    """Which meshes to draw: the first, the last, the one nearest each mark (a stage's start), then
    evenly spaced ones while there is room; at most `most`.

    A mesh is drawn once, as "start" or "end" or under the first mark it is nearest; with more marks
    than room, the first and last stay and the marked ones are thinned evenly.
    """
    if not timestamps:
        return []
    times = np.asarray(timestamps, dtype=float)
    chosen: dict[int, str] = {0: "start"}
    chosen.setdefault(len(times) - 1, "end")
    for when, label in sorted(marks):
        chosen.setdefault(int(np.abs(times - when).argmin()), label)
    indices = sorted(chosen)
    if len(indices) > most:
        middle = indices[1:-1]
        keep = np.linspace(0, len(middle) - 1, most - 2).round().astype(int)
        indices = [indices[0], *(middle[i] for i in keep), indices[-1]]
    for when in np.linspace(times[0], times[-1], most):  # room left: evenly spaced ones in between
        nearest = int(np.abs(times - when).argmin())
        if len(indices) < most and nearest not in indices:
            indices = sorted([*indices, nearest])
    return [Moment(i, chosen.get(i, "")) for i in indices]


def colour_key(frame: pd.DataFrame) -> str | None:
    """The datapoint column to colour peers by: room, or node then host when the run had one room."""
    present = [c for c in ("room", "nodeId", "hostId") if c in frame]
    for column in present:
        if frame[column].nunique() > 1:
            return column
    return present[0] if present else None


def groups_at(frame: pd.DataFrame, column: str, timestamp: int | None = None) -> dict[str, str]:
    """Each peer's `column` in its datapoint nearest `timestamp` (a roaming peer's room then), or its first."""
    rows = frame[["peerId", "timestamp", column]].dropna()
    if rows.empty:
        return {}
    if timestamp is None:
        picked = rows.loc[rows.groupby("peerId", observed=True)["timestamp"].idxmin()]
    else:
        distance = (rows["timestamp"] - timestamp).abs()
        picked = rows.loc[distance.groupby(rows["peerId"], observed=True).idxmin()]
    return {str(p): str(v) for p, v in zip(picked["peerId"], picked[column], strict=True)}


def stage_marks(frame: pd.DataFrame, interval_ms: float) -> list[tuple[int, str]]:
    """When each stage began, as its first window's start (`--stages` runs): marks for `moments`."""
    if "stage" not in frame or frame["stage"].isna().all():
        return []
    first = frame.dropna(subset=["stage"]).groupby("stage")["timestamp"].min().sort_index()
    return [(int(ts - interval_ms), f"stage {int(stage)} begins") for stage, ts in first.items()]


def connections_over_time(meshes: Sequence[Mesh]) -> pd.DataFrame:
    """One row per peer and mesh: `timestamp`, `peerId`, `connections` (its degree then)."""
    rows = [(m.timestamp, peer, n) for m in meshes for peer, n in m.connections().items()]
    return pd.DataFrame(rows, columns=["timestamp", "peerId", "connections"])
