"""The report's mesh section: the mesh as the lighthouse saw it at a few moments, and connections per
peer over time, drawn with matplotlib like every plot of the report.

Each picture's peers and connections are SVG groups with ids (`mesh-N-peers`, `mesh-N-connections`),
so a test can count them in the page as a browser shows it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from peerperf.analysis.mesh import (
    Layout,
    Mesh,
    colour_key,
    connections_over_time,
    groups_at,
    layout,
    meshes,
    moments,
    natural,
    pass_gap_ms,
    stage_marks,
)

#: What the colours stand for, by datapoint column.
COLUMN_NAMES = {"room": "room", "nodeId": "node", "hostId": "host"}
#: Connections are drawn thinner in a picture with more than this many (a big run's layers in a grid).
THIN_ABOVE = 300
#: At most this many colours are named in a picture's legend.
LEGEND_ENTRIES = 12

Plot = tuple[str, Callable[[], Figure | None]]


@dataclass
class MeshSection:
    """What the report shows of the mesh: pictures, connections over time, or why there are none."""

    pictures: list[Plot] = field(default_factory=list)
    connections: Plot | None = None
    notes: list[str] = field(default_factory=list)


def mesh_section(
    frame: pd.DataFrame, samples: Sequence[tuple[int, Any]] | None, interval_s: float, sampled_every: object = None
) -> MeshSection:
    """The mesh at up to six moments (start, end, each stage's start, then evenly spaced) and connections
    over time, from the test's topology `samples` (None: not sampled) taken every `sampled_every` s (its
    `topology_interval` setting, when known); `frame` gives rooms and time zero, `interval_s` its windows."""
    if samples is None:
        return MeshSection(notes=["The mesh was not sampled in this run (no topology samples stored with it)."])
    found = meshes(samples, pass_gap_ms(sampled_every))
    notes = []
    if found.unreadable:
        notes.append(f"{found.unreadable} topology samples were not in the lighthouse's format and are left out.")
    if not found.meshes:
        return MeshSection(notes=[*notes, "No topology sample listed any peer: no mesh to draw."])
    origin = float(frame["timestamp"].min()) if len(frame) else float(found.meshes[0].timestamp)
    key = colour_key(frame)
    places = layout(found.meshes, groups_at(frame, key) if key else None)
    chosen = moments([m.timestamp for m in found.meshes], stage_marks(frame, interval_s * 1000))
    all_groups = sorted({str(v) for v in frame[key].dropna().unique()}, key=natural) if key else []
    colours = _colours(all_groups)
    pictures: list[Plot] = []
    for number, moment in enumerate(chosen, start=1):
        mesh = found.meshes[moment.index]
        groups = groups_at(frame, key, mesh.timestamp) if key else {}
        when = f"{(mesh.timestamp - origin) / 1000:.0f} s" + (f", {moment.label}" if moment.label else "")
        caption = (
            f"Mesh at {when}: {len(mesh.layers)} peers, {len(mesh.edges)} connections"
            + (f", coloured by {COLUMN_NAMES[key]}" if key else "")
            + " (lighthouse topology; each peer keeps its place in every picture)"
        )
        pictures.append((caption, functools.partial(mesh_figure, mesh, places, groups, colours, number)))
    degrees = connections_over_time(found.meshes)
    caption = "Connections per peer as the lighthouse saw them, per topology sample (median; band: min to max)"
    return MeshSection(pictures, (caption, lambda: connections_figure(degrees, origin)), notes)


def _colours(groups: Sequence[str]) -> dict[str, str]:
    palette = colormaps["tab10" if len(groups) <= 10 else "tab20"]
    count = 10 if len(groups) <= 10 else 20
    return {g: _hex(palette(i % count)) for i, g in enumerate(groups)}


def _hex(rgba: tuple[float, float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


def mesh_figure(
    mesh: Mesh, places: Layout, groups: Mapping[str, str], colours: Mapping[str, str], number: int
) -> Figure:
    """One picture: the mesh's peers at their places, its connections as lines, peers coloured by group;
    each layer's circle named when there are several."""
    figure = Figure(figsize=(5.2, 5.2))
    axes = figure.subplots()
    axes.set_aspect("equal")
    axes.set_axis_off()
    peers, positions = mesh.peers, places.positions
    if mesh.edges:
        axes.add_patch(_connections(mesh, positions, f"mesh-{number}-connections"))
    xy = np.array([positions[p] for p in peers])
    fill = [colours.get(groups.get(p, ""), "#5f6368") for p in peers]
    size = float(np.clip(3000 / len(peers), 8, 60))
    dots = axes.scatter(xy[:, 0], xy[:, 1], s=size, c=fill, edgecolors="white", linewidths=0.5, zorder=2)
    dots.set_gid(f"mesh-{number}-peers")
    centres = np.array(list(places.centres.values()))
    axes.set_xlim(centres[:, 0].min() - 1.15, centres[:, 0].max() + 1.15)
    axes.set_ylim(centres[:, 1].min() - 1.15, centres[:, 1].max() + 1.3)
    if len(places.centres) > 1:
        for layer, (x, y) in places.centres.items():
            axes.text(x, y + 1.12, layer, ha="center", va="bottom", fontsize="xx-small", color="#5f6368")
    shown = sorted({groups[p] for p in peers if p in groups}, key=natural)
    if 1 < len(shown) <= LEGEND_ENTRIES:
        handles = [Line2D([], [], marker="o", linestyle="", color=colours[g], label=g) for g in shown]
        axes.legend(handles=handles, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure


def _connections(mesh: Mesh, positions: Mapping[str, tuple[float, float]], gid: str) -> PathPatch:
    """Every connection as one move-and-line of a single SVG path: a thousand peers' connections drawn as
    elements of their own would be most of the report's bytes. Not simplified, so each stays a move."""
    ends = np.array([(positions[a], positions[b]) for a, b in sorted(mesh.edges)]).reshape(-1, 2)
    codes = np.tile([Path.MOVETO, Path.LINETO], len(mesh.edges)).astype(Path.code_type)
    path = Path(ends, codes)
    path.should_simplify = False
    width = 0.8 if len(mesh.edges) <= THIN_ABOVE else 0.4
    patch = PathPatch(path, fill=False, edgecolor="#9aa0a6", linewidth=width, alpha=0.7, zorder=1)
    patch.set_gid(gid)
    return patch


def connections_figure(degrees: pd.DataFrame, origin_ms: float) -> Figure:
    """Connections per peer over time: the median, and the band from the least connected peer to the most."""
    figure = Figure(figsize=(6.4, 3.4))
    axes = figure.subplots()
    axes.grid(alpha=0.3)
    grouped = degrees.groupby((degrees["timestamp"] - origin_ms) / 1000)["connections"]
    x, low, high = grouped.median().index, grouped.min(), grouped.max()
    (line,) = axes.plot(x, grouped.median(), marker=".", label="median")
    axes.fill_between(x, low, high, alpha=0.2, color=line.get_color(), label="min to max")
    axes.plot(x, low, linestyle=":", color=line.get_color(), linewidth=0.8)
    axes.plot(x, high, linestyle=":", color=line.get_color(), linewidth=0.8)
    axes.set_xlabel("s")
    axes.set_ylabel("connections")
    axes.legend(fontsize="x-small")
    return figure
