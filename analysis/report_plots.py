"""The report's plots over time: one matplotlib figure per question, one run or several overlaid.

Every function returns a `Figure` (no pyplot: no global state, no display backend), or None when the
runs have no data for it; `peerperf.analysis.html_report` inlines them as SVG. With `--stages`,
`banded` shades each stage's windows behind a plot.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from peerperf.analysis.delivery import grace_windows, has_origin_windows, origin_delivery
from peerperf.analysis.health import host_rows
from peerperf.analysis.histograms import bucket_counts, percentiles
from peerperf.analysis.peers import LATENCY_COLUMNS, row_samples
from peerperf.analysis.thresholds import LATE_TICK_MS
from peerperf.analysis.windows import PYTHON, interval_seconds
from peerperf.protocol.metrics import ARRIVAL_GRACE_S
from peerperf.sim.stages import parse_stages

#: A plot's caption and how to draw it (None: no data in this run).
Plot = tuple[str, Callable[[], Figure | None]]


def _seconds(frame: pd.DataFrame) -> pd.Series:
    """Seconds since the run's first datapoint, per window (the median time the window closed; runs pooled
    from several tests each from their own start)."""
    start = frame.groupby("testId", observed=True)["timestamp"].transform("min")
    return ((frame["timestamp"] - start).groupby(frame["window"]).median()) / 1000


def _figure() -> tuple[Figure, Axes]:
    """A figure of its own (no pyplot: no global state, nothing to close, no display backend)."""
    figure = Figure(figsize=(6.4, 3.4))
    axes = figure.subplots()
    axes.grid(alpha=0.3)
    return figure, axes


def _label(name: str, what: str) -> str:
    return f"{name} {what}".strip()


#: Draws one run's series on the axes; False when the run has no data for it.
Draw = Callable[[Axes, str, pd.DataFrame, int], bool]


def _plot(frames: dict[str, pd.DataFrame], draw: Draw, xlabel: str, ylabel: str) -> Figure | None:
    """One figure with each run's series; None when no run had data for it."""
    figure, axes = _figure()
    drawn = [draw(axes, name, frame, i) for i, (name, frame) in enumerate(frames.items())]
    if not any(drawn):
        return None
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize="small")
    return figure


def rates_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    def draw(axes: Axes, name: str, frame: pd.DataFrame, _: int) -> bool:
        columns = [
            c for c in ("originatedPerSecond", "sentPerSecond", "receivedPerSecond", "relayedPerSecond") if c in frame
        ]
        for column in columns:
            series = frame.groupby("window")[column].mean()
            axes.plot(_seconds(frame).loc[series.index], series.values, label=_label(name, column[: -len("PerSecond")]))
        return bool(columns)

    return _plot(frames, draw, "s", "packets/s per peer")


def delivery_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    def draw(axes: Axes, name: str, frame: pd.DataFrame, _: int) -> bool:
        if "uniqueReceived" not in frame or frame["uniqueReceived"].isna().all():
            return False
        ours = frame[(frame["kind"] == PYTHON).to_numpy()] if "kind" in frame else frame
        rows = row_samples(ours)[0]
        per_window = rows.groupby("window")[["unique", "arrived", "expected", "lost"]].sum()
        if has_origin_windows(ours):  # exact, by origin window (windows that cannot be vouched for left out)
            per_window = origin_delivery(ours, 1, grace_windows(ARRIVAL_GRACE_S, interval_seconds(ours))).per_window
        seconds = _seconds(frame)
        with np.errstate(invalid="ignore", divide="ignore"):
            delivery = per_window["arrived"] / per_window["expected"]
            loss = rows.groupby("window")["lost"].sum() / rows.groupby("window")[["unique", "lost"]].sum().sum(axis=1)
        axes.plot(seconds.reindex(delivery.index), delivery, marker=".", label=_label(name, "delivery"))
        axes.plot(seconds.reindex(loss.index), loss, linestyle="--", label=_label(name, "loss"))
        return True

    return _plot(frames, draw, "s", "ratio")


def latency_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    def draw(axes: Axes, name: str, frame: pd.DataFrame, _: int) -> bool:
        windows = sorted(frame["window"].unique())
        codes = frame["window"].map({w: i for i, w in enumerate(windows)})
        x = _seconds(frame).loc[windows].to_numpy()
        drawn = False
        for subtype, column in LATENCY_COLUMNS.items():
            if column not in frame:
                continue
            counts = bucket_counts(frame[column], codes)
            p50 = [percentiles(row, [50])[0] for row in counts]
            if all(math.isnan(v) for v in p50):
                continue
            (line,) = axes.plot(x, p50, label=_label(name, subtype))
            axes.plot(x, [percentiles(row, [99])[0] for row in counts], linestyle="--", color=line.get_color())
            axes.set_yscale("log")
            drawn = True
        return drawn

    return _plot(frames, draw, "s", "ms")


def connections_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    def draw(axes: Axes, name: str, frame: pd.DataFrame, _: int) -> bool:
        if "connectedPeers" not in frame:
            return False
        counts = frame["connectedPeers"].map(lambda v: len(v) if v is not None and not isinstance(v, float) else 0)
        grouped = counts.groupby(frame["window"])
        seconds = _seconds(frame).loc[grouped.mean().index]
        (line,) = axes.plot(seconds, grouped.mean(), label=_label(name, "mean"))
        axes.fill_between(seconds, grouped.min(), grouped.max(), alpha=0.2, color=line.get_color())
        return True

    return _plot(frames, draw, "s", "connections (band: min to max)")


def hops_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    width = 0.8 / max(1, len(frames))

    def draw(axes: Axes, name: str, frame: pd.DataFrame, i: int) -> bool:
        counts = bucket_counts(frame["hops"]) if "hops" in frame else np.zeros(1)
        if counts.sum() == 0:
            return False
        top = int(np.flatnonzero(counts)[-1]) + 1
        axes.bar(np.arange(top) + i * width, counts[:top] / counts.sum(), width=width, label=name or "hops")
        return True

    return _plot(frames, draw, "hops", "share of delivered messages")


def harness_plot(frame: pd.DataFrame) -> Figure | None:
    hosts = host_rows(frame)
    if "tickLagP99" not in hosts and "hostCpuPercent" not in hosts:
        return None
    figure, axes = _figure()
    cpu_axes = axes.twinx()
    seconds = _seconds(frame)
    for host, rows in hosts.groupby("hostId") if "hostId" in hosts else [("", hosts)]:
        x = seconds.loc[rows["window"]].to_numpy()
        if "tickLagP99" in rows:
            axes.plot(x, rows["tickLagP99"], label=f"{host} lag p99")
        if "hostCpuPercent" in rows:
            cpu_axes.plot(x, rows["hostCpuPercent"], linestyle=":", label=f"{host} CPU")
    axes.axhline(LATE_TICK_MS, color="#b3261e", linewidth=0.8)
    axes.set_xlabel("s")
    axes.set_ylabel("tick lag p99, ms (red: saturated above)")
    cpu_axes.set_ylabel("CPU, % of a core (dotted)")
    if hosts["hostId"].nunique() <= 8 if "hostId" in hosts else True:
        axes.legend(fontsize="small", loc="upper left")
    return figure


def heatmap(frame: pd.DataFrame) -> Figure | None:
    if "receivedPerSecond" not in frame:
        return None
    grid = frame.pivot_table(index="peerId", columns="window", values="receivedPerSecond", aggfunc="mean")
    if grid.empty:
        return None
    figure = Figure(figsize=(6.4, max(2.0, min(8.0, 0.18 * len(grid) + 1))))
    axes = figure.subplots()
    image = axes.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="viridis", interpolation="nearest")
    axes.set_xlabel("window")
    axes.set_ylabel("peer")
    axes.set_yticks(range(len(grid)) if len(grid) <= 30 else [])
    if len(grid) <= 30:
        axes.set_yticklabels([str(p)[:10] for p in grid.index], fontsize="x-small")
    axes.set_xticks(range(len(grid.columns)))
    axes.set_xticklabels([str(w) for w in grid.columns], fontsize="x-small")
    figure.colorbar(image, ax=axes, label="received packets/s")
    return figure


def stage_plots(frame: pd.DataFrame, settings: dict[str, object]) -> list[Plot]:
    """With `--stages`: the active peers per window against the stages' target, first among the plots."""
    if not _has_stages(frame):
        return []
    caption = (
        "Stages: active peers per window (solid) and the stages' target (dashed); on every plot over time the "
        "bands are the windows each stage's figures count (a window counts for the stage it closed in)"
    )
    return [(caption, lambda: banded(_active_plot(frame, settings.get("stages")), frame))]


def _has_stages(frame: pd.DataFrame) -> bool:
    return "stage" in frame and bool(frame["stage"].notna().any())


def _active_plot(frame: pd.DataFrame, stages: object) -> Figure | None:
    figure, axes = _figure()
    active = frame.groupby("window")["peerId"].nunique()
    seconds = _seconds(frame)
    interval = interval_seconds(frame)
    # A window's peers are drawn over the window, which ends at its x.
    ends = seconds.loc[active.index].to_numpy()
    counts = active.to_numpy()
    axes.step([*(ends - interval), ends[-1]], [*counts, counts[-1]], where="post", label="active peers")
    if isinstance(stages, str):  # the stages as the run was given them: the line they draw
        plan = parse_stages(stages)
        x = np.arange(0.0, plan.duration + interval / 2, interval / 4)
        # A window's x is about when it closed: time t of the test is at x(window) - (n x interval - t).
        first = int(active.index.min())
        shift = float(seconds.loc[first]) - first * interval
        axes.plot(x + shift, [plan.target_at(t) for t in x], linestyle="--", label="target")
    axes.set_xlabel("s")
    axes.set_ylabel("peers")
    axes.legend(fontsize="small")
    return figure


def banded(figure: Figure | None, frame: pd.DataFrame) -> Figure | None:
    """`figure` with each stage's windows shaded behind its plot over time and named on top (`--stages`)."""
    if figure is None or not _has_stages(frame):
        return figure
    axes = figure.axes[0]
    seconds = _seconds(frame)
    interval = interval_seconds(frame)
    stage_of = frame.groupby("window")["stage"].first().dropna()
    for i, (stage, windows) in enumerate(stage_of.groupby(stage_of)):
        start = float(seconds.loc[windows.index.min()]) - interval
        end = float(seconds.loc[windows.index.max()])
        axes.axvspan(start, end, color="#1a73e8" if i % 2 else "#f9ab00", alpha=0.08, linewidth=0)
        axes.text(
            (start + end) / 2,
            1.0,
            f"stage {int(stage)}",
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    return figure
