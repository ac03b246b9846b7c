"""A summary as a person reads it in a terminal: the figures that matter first, the verdict last."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from peerperf.analysis.figures import Metric
from peerperf.analysis.summarise import Summary
from peerperf.analysis.verdict import Status

#: Figures shown at the end of a run, in this order (when present); `peerperf summary --all` shows every one.
HEADLINE = (
    "peers",
    "layers",
    "duration",
    "delivery",
    "delivery.position",
    "delivery.profile",
    "delivery.chat",
    "loss",
    "expired",
    "latency.position.p50",
    "latency.position.p99",
    "latency.profile.p99",
    "latency.chat.p99",
    "throughput.originated",
    "throughput.sent",
    "throughput.received",
    "throughput.relayed",
    "connections",
    "hops.mean",
    "setup.p50",
    "join.p50",
    "join.p99",
    "connections.failed",
    "peers.dropped_out",
    "peers.never_reported",
    "peers.restarted",
    "datapoints.rejected",
    "peers.lost",
    "harness.errors",
    "peers.browser",
    "datapoints.browser",
    "datapoints.unknown_keys",
    "clock.error",
    "routine.errors",
)
#: Shown as percentages.
RATIOS = frozenset({"delivery", "loss", "expired", "duplicates"})


def format_value(metric: Metric) -> str:
    value = metric.value
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if metric.name.split(".")[0] in RATIOS:
        return f"{value:.2%}" if value < 0.9999 or value == 1 else f"{value:.4%}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}"


def summary_table(summary: Summary, title: str, every: bool = False) -> Table:
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    names = list(summary.metrics) if every else [n for n in HEADLINE if n in summary.metrics]
    for name in names:
        metric = summary.metrics[name]
        if name == "harness":
            continue
        table.add_row(metric.label, format_value(metric), metric.unit)
    return table


#: The figures of the table by kind (`kinds_table`), when a test has both peerperf's peers and browser peers.
KIND_FIGURES = (
    "peers",
    "delivery",
    "latency.position.p50",
    "throughput.sent",
    "throughput.received",
    "throughput.relayed",
    "connections",
)


def kinds_table(groups: dict[str, Summary], title: str) -> Table:
    """One row per kind of peer (python, browser): the figures both kinds can have ('n/a' where one has not)."""
    table = Table(title=title)
    table.add_column("kind")
    for name in KIND_FIGURES:
        units = {g.metrics[name].unit for g in groups.values() if name in g.metrics} - {""}
        table.add_column(name + (f" ({units.pop()})" if len(units) == 1 else ""), justify="right")
    for kind, group in groups.items():
        cells = [format_value(group.metrics[n]) if n in group.metrics else "n/a" for n in KIND_FIGURES]
        table.add_row(kind, *cells)
    return table


def print_summary(console: Console, summary: Summary, title: str, every: bool = False) -> None:
    """The table, how the steady state was chosen, notes, and the harness verdict with its evidence."""
    console.print(summary_table(summary, title, every))
    console.print(f"steady state: {summary.steady_state.describe()}", highlight=False)
    for note in summary.notes:
        console.print(f"[yellow]note[/]: {note}", highlight=False)
    print_verdict(console, summary)


#: What each status means for the figures, as the first line of the harness check says it.
MEANING = {
    Status.HEALTHY: "harness check: ok (healthy): tick loop on time, hosts below CPU limits, nothing lost",
    Status.BURSTS: (
        "harness check: [bold yellow]BURSTS[/]: the harness was overloaded at moments: latency in those windows "
        "includes its own stalls:"
    ),
    Status.SATURATED: (
        "harness check: [bold red]HARNESS SATURATED[/]: these figures measure the load generator, not the network:"
    ),
    Status.FAULTY: "harness check: [bold red]HARNESS FAULTY[/]: part of the load or of its record was lost:",
    Status.UNKNOWN: "harness check: [bold yellow]UNKNOWN[/]: the harness's health cannot be told:",
}


def print_verdict(console: Console, summary: Summary) -> None:
    verdict = summary.verdict
    console.print(MEANING[verdict.status])
    for line in verdict.reasons:
        console.print(f"  - {line}", highlight=False)
    for line in verdict.evidence:
        console.print(f"  evidence: {line}", highlight=False)
