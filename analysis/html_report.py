"""A self-contained HTML report: plots a person would rather look at than read, plus the verdict.

One file, no scripts and no network: every plot is an inline SVG drawn by matplotlib, so the
report opens offline, in any browser, years later. `report(...)` renders one run; `compare_report`
overlays several with the comparison table.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from peerperf.analysis.comparison import Comparison
from peerperf.analysis.groups import mixed_kinds, summaries_by
from peerperf.analysis.report_mesh import mesh_section
from peerperf.analysis.report_plots import (
    Plot,
    banded,
    connections_plot,
    delivery_plot,
    harness_plot,
    heatmap,
    hops_plot,
    latency_plot,
    rates_plot,
    stage_plots,
)
from peerperf.analysis.summarise import Summary
from peerperf.analysis.text import HEADLINE, format_value
from peerperf.analysis.verdict import Status
from peerperf.analysis.windows import interval_seconds, with_windows

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
    path: Path | str,
    title: str | None = None,
    topology: Sequence[tuple[int, Any]] | None = None,
) -> Path:
    """Write the HTML report of one run to `path`; returns it. `topology`: the run's topology samples
    (`analysis.results_files.topology`), drawn as the mesh over time; None says the mesh was not sampled."""
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
                *stage_plots(frame, summary.settings),
                ("Packets per second, mean per peer", lambda: banded(rates_plot({"": frame}), frame)),
                ("Delivery ratio and loss per window", lambda: banded(delivery_plot({"": frame}), frame)),
                (
                    "Latency per subtype (p50 solid, p99 dashed)",
                    lambda: banded(latency_plot({"": frame}), frame),
                ),
                ("Connections per peer", lambda: banded(connections_plot({"": frame}), frame)),
                ("Hops of delivered messages", lambda: hops_plot({"": frame})),
                ("Harness: tick lag p99 and CPU per host", lambda: banded(harness_plot(frame), frame)),
                ("Received packets per second, per peer and window", lambda: heatmap(frame)),
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
        plots.append((caption, lambda: banded(draw(), frame)))
    notes = [f"<p>{html.escape(note)}</p>" for note in section.notes]
    return ["<h2>Mesh</h2>", *notes, *([_plots(plots)] if plots else [])]


def compare_report(frames: list[pd.DataFrame], comparison: Comparison, path: Path | str) -> Path:
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
                ("Packets per second, mean per peer", lambda: rates_plot(named)),
                ("Delivery ratio and loss per window", lambda: delivery_plot(named)),
                ("Latency (p50 solid, p99 dashed)", lambda: latency_plot(named)),
                ("Connections per peer", lambda: connections_plot(named)),
                ("Hops of delivered messages", lambda: hops_plot(named)),
            ]
        ),
    ]
    return _write(path, title, parts)


def _write(path: Path | str, title: str, parts: list[str]) -> Path:
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>"
    )
    path = Path(path).expanduser()
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


def _plots(plots: list[Plot]) -> str:
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
