"""A self-contained HTML report: plots a person would rather look at than read, plus the verdict.

One file, no scripts and no network: every plot is an inline SVG drawn by matplotlib, so the
report opens offline, in any browser, years later. `report(...)` renders one run; `compare_report`
overlays several with the comparison table.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from peerperf.analysis.compare import Comparison
from peerperf.analysis.delivery import grace_windows, has_origin_windows, origin_delivery
from peerperf.analysis.health import host_rows
from peerperf.analysis.histograms import bucket_counts, percentiles
from peerperf.analysis.peers import LATENCY_COLUMNS, row_samples
from peerperf.analysis.report_mesh import mesh_section
from peerperf.analysis.summary import Summary, mixed_kinds, summaries_by
from peerperf.analysis.text import HEADLINE, format_value
from peerperf.analysis.thresholds import LATE_TICK_MS
from peerperf.analysis.verdict import Status
from peerperf.analysis.windows import PYTHON, interval_seconds, with_windows
from peerperf.protocol.metrics import ARRIVAL_GRACE_S
from peerperf.sim.stages import parse_stages

#: The verdict as a report's heading says it.
LABELS = {
    Status.HEALTHY: "healthy",
    Status.BURSTS: "BURSTS (overloaded at moments)",
    Status.SATURATED: "HARNESS SATURATED",
    Status.FAULTY: "HARNESS FAULTY",
    Status.UNKNOWN: "unknown",
}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { padding: 0.8em 1em; border-radius: 6px; margin: 1em 0; }
.healthy { background: #e6f4ea; } .saturated, .faulty { background: #fce8e6; }
.unknown, .bursts { background: #fef7e0; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1em; }
figure { margin: 0; } figure svg { width: 100%; height: auto; } figcaption { font-size: 0.9em; color: #555; }
.sig { font-weight: bold; color: #b3261e; }
"""


def report(
    frame: pd.DataFrame,
    summary: Summary,
    path: Path,
    title: str | None = None,
    topology: Sequence[tuple[int, Any]] | None = None,
) -> Path:
    """Write the HTML report of one run to `path`; returns it. `topology`: the run's topology samples
    (`analysis.load.topology`), drawn as the mesh over time; None says the mesh was not sampled."""
    frame = with_windows(frame)
    title = title or f"peerperf test {', '.join(summary.test_ids)}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        _verdict_html(summary),
        "<h2>Summary</h2>",
        _summary_table([summary], ["value"]),
        f"<p>Steady state: {html.escape(summary.steady_state.describe())}.</p>",
        *_kinds_html(frame),
        "<h2>Over time</h2>",
        _plots(
            [
                *_stage_plots(frame, summary.settings),
                ("Packets per second, mean per peer", lambda: _banded(_rates_plot({"": frame}), frame)),
                ("Delivery ratio and loss per window", lambda: _banded(_delivery_plot({"": frame}), frame)),
                (
                    "Latency per subtype (p50 solid, p99 dashed)",
                    lambda: _banded(_latency_plot({"": frame}), frame),
                ),
                ("Connections per peer", lambda: _banded(_connections_plot({"": frame}), frame)),
                ("Hops of delivered messages", lambda: _hops_plot({"": frame})),
                ("Harness: tick lag p99 and CPU per host", lambda: _banded(_harness_plot(frame), frame)),
                ("Received packets per second, per peer and window", lambda: _heatmap(frame)),
            ]
        ),
        *_mesh_html(frame, topology, summary.settings.get("topology_interval")),
    ]
    if summary.settings:
        parts += ["<h2>Settings</h2>", _settings_table(summary.settings)]
    return _write(path, title, parts)


def _mesh_html(frame: pd.DataFrame, topology: Sequence[tuple[int, Any]] | None, sampled_every: object) -> list[str]:
    """The mesh at a few moments and connections per peer over time (stage bands on the latter)."""
    section = mesh_section(frame, topology, interval_seconds(frame), sampled_every)
    plots = list(section.pictures)
    if section.connections is not None:
        caption, draw = section.connections
        plots.append((caption, lambda: _banded(draw(), frame)))
    notes = [f"<p>{html.escape(note)}</p>" for note in section.notes]
    return ["<h2>Mesh</h2>", *notes, *([_plots(plots)] if plots else [])]


def compare_report(frames: list[pd.DataFrame], comparison: Comparison, path: Path) -> Path:
    """Write the HTML comparison of several runs (overlaid plots, differences with intervals)."""
    named = {name: with_windows(frame) for name, frame in zip(comparison.names, frames, strict=True)}
    title = "peerperf comparison: " + " vs ".join(comparison.names)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Harness</h2>",
        "".join(_verdict_html(s, name) for name, s in zip(comparison.names, comparison.summaries, strict=True)),
    ]
    if comparison.settings:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in values) + "</tr>"
            for k, values in comparison.settings.items()
        )
        head = "".join(f"<th>{html.escape(n)}</th>" for n in comparison.names)
        parts += ["<h2>Settings that differ</h2>", f"<table><tr><th>setting</th>{head}</tr>{rows}</table>"]
    parts += [
        "<h2>Differences</h2>",
        _differences_table(comparison),
        *(f"<p>note: {html.escape(note)}</p>" for note in comparison.notes),
        "<h2>Over time</h2>",
        _plots(
            [
                ("Packets per second, mean per peer", lambda: _rates_plot(named)),
                ("Delivery ratio and loss per window", lambda: _delivery_plot(named)),
                ("Latency (p50 solid, p99 dashed)", lambda: _latency_plot(named)),
                ("Connections per peer", lambda: _connections_plot(named)),
                ("Hops of delivered messages", lambda: _hops_plot(named)),
            ]
        ),
    ]
    return _write(path, title, parts)


def _write(path: Path, title: str, parts: list[str]) -> Path:
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def _verdict_html(summary: Summary, name: str = "") -> str:
    verdict = summary.verdict
    label = LABELS[verdict.status]
    items = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.reasons)
    items += "".join(f"<li>evidence: {html.escape(e)}</li>" for e in verdict.evidence)
    prefix = f"{html.escape(name)}: " if name else ""
    return (
        f"<div class='verdict {verdict.status}'><strong>{prefix}harness verdict: {label}</strong><ul>{items}</ul></div>"
    )


def _kinds_html(frame: pd.DataFrame) -> list[str]:
    """With two kinds of peer (python, browser): their figures side by side."""
    if not mixed_kinds(frame):
        return []
    groups = summaries_by(frame, "kind")
    return ["<h2>By kind of peer</h2>", _summary_table(list(groups.values()), list(groups))]


def _summary_table(summaries: list[Summary], columns: list[str]) -> str:
    names = [n for n in HEADLINE if any(n in s.metrics for s in summaries)]
    names += [n for n in summaries[0].metrics if n not in names and n != "harness"]
    rows = []
    for name in names:
        metric = next(s.metrics[name] for s in summaries if name in s.metrics)
        cells = "".join(
            f"<td class='num'>{html.escape(format_value(s.metrics[name])) if name in s.metrics else ''}</td>"
            for s in summaries
        )
        rows.append(f"<tr><td>{html.escape(metric.label)}</td>{cells}<td>{html.escape(metric.unit)}</td></tr>")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    return f"<table><tr><th>figure</th>{head}<th>unit</th></tr>{''.join(rows)}</table>"


def _differences_table(comparison: Comparison) -> str:
    head = "".join(f"<th>{html.escape(n)}</th>" for n in comparison.names)
    head += "".join(
        f"<th>{html.escape(n)} - {html.escape(comparison.names[0])} (95% CI)</th>" for n in comparison.names[1:]
    )
    rows = []
    for d in comparison.differences:
        values = "".join(f"<td class='num'>{_number(v)}</td>" for v in d.values)
        deltas = "".join(
            f"<td class='num{' sig' if sig else ''}'>{_number(delta)} [{_number(lo)}, {_number(hi)}]"
            f"{' significant' if sig else ''}</td>"
            for delta, (lo, hi), sig in zip(d.deltas, d.intervals, d.significant, strict=True)
        )
        rows.append(f"<tr><td>{html.escape(d.label)} {html.escape(d.unit)}</td>{values}{deltas}</tr>")
    return f"<table><tr><th>figure</th>{head}</tr>{''.join(rows)}</table>"


def _settings_table(settings: dict[str, object]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in sorted(settings.items())
    )
    return f"<table>{rows}</table>"


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"


def _plots(plots: list[tuple[str, Callable[[], Figure | None]]]) -> str:
    out = []
    for caption, draw in plots:
        figure = draw()
        if figure is None:
            out.append(f"<figure><figcaption>{html.escape(caption)}: no data in this run</figcaption></figure>")
            continue
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
        svg = buffer.getvalue()
        svg = svg[svg.index("<svg") :]  # drop the XML prologue: the SVG is inline
        out.append(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>")
    return f"<div class='plots'>{''.join(out)}</div>"


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


def _rates_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    def draw(axes: Axes, name: str, frame: pd.DataFrame, _: int) -> bool:
        columns = [
            c for c in ("originatedPerSecond", "sentPerSecond", "receivedPerSecond", "relayedPerSecond") if c in frame
        ]
        for column in columns:
            series = frame.groupby("window")[column].mean()
            axes.plot(_seconds(frame).loc[series.index], series.values, label=_label(name, column[: -len("PerSecond")]))
        return bool(columns)

    return _plot(frames, draw, "s", "packets/s per peer")


def _delivery_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
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


def _latency_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
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


def _connections_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
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


def _hops_plot(frames: dict[str, pd.DataFrame]) -> Figure | None:
    width = 0.8 / max(1, len(frames))

    def draw(axes: Axes, name: str, frame: pd.DataFrame, i: int) -> bool:
        counts = bucket_counts(frame["hops"]) if "hops" in frame else np.zeros(1)
        if counts.sum() == 0:
            return False
        top = int(np.flatnonzero(counts)[-1]) + 1
        axes.bar(np.arange(top) + i * width, counts[:top] / counts.sum(), width=width, label=name or "hops")
        return True

    return _plot(frames, draw, "hops", "share of delivered messages")


def _harness_plot(frame: pd.DataFrame) -> Figure | None:
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


def _heatmap(frame: pd.DataFrame) -> Figure | None:
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


def _stage_plots(frame: pd.DataFrame, settings: dict[str, object]) -> list[tuple[str, Callable[[], Figure | None]]]:
    """With `--stages`: the active peers per window against the stages' target, first among the plots."""
    if not _has_stages(frame):
        return []
    caption = (
        "Stages: active peers per window (solid) and the stages' target (dashed); on every plot over time the "
        "bands are the windows each stage's figures count (a window counts for the stage it closed in)"
    )
    return [(caption, lambda: _banded(_active_plot(frame, settings.get("stages")), frame))]


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


def _banded(figure: Figure | None, frame: pd.DataFrame) -> Figure | None:
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
