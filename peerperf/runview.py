"""What a person watching a run sees: a live panel on a terminal, plain lines elsewhere, a summary at the end.

While the run goes, the harness verdict so far comes from the peer hosts' windows, judged by the
summary's own rules (`analysis.live_verdict`), so the live view and the end agree.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from peerperf.analysis.assertions import Outcome
from peerperf.analysis.thresholds import CPU_BOUND_PERCENT, LATE_TICK_MS
from peerperf.results.influx.relay_stats import RelayStats
from peerperf.run_state import RunOutcome, RunSnapshot

if TYPE_CHECKING:  # the summary (pandas) is only there at the end; the verdict (numpy) once hosts report
    from peerperf.analysis.live_verdict import LiveVerdict
    from peerperf.analysis.summarise import Summary
    from peerperf.analysis.verdict import Verdict

#: Seconds between progress lines when the output is not a terminal.
PLAIN_EVERY = 5.0


class RunView:
    def __init__(self, plain: bool = False, console: Console | None = None) -> None:
        self.console = console or Console(soft_wrap=True)
        self.plain = plain or not self.console.is_terminal
        self._live: Live | None = None
        self._last_line = 0.0
        self._last_phase = ""
        self._live_url_shown = False
        self._harness: LiveVerdict | None = None

    def harness(self, snapshot: RunSnapshot) -> Verdict | None:
        """The harness verdict so far, from every host window seen (None before any host reported one)."""
        if snapshot.host_windows and self._harness is None:
            from peerperf.analysis.live_verdict import LiveVerdict

            self._harness = LiveVerdict()
        if self._harness is None:
            return None
        from peerperf.analysis.verdict import RunFacts

        for fields in snapshot.host_windows:
            self._harness.host_window(fields)
        facts = RunFacts(snapshot.harness_errors, snapshot.lost, datapoints_refused=snapshot.rejected)
        return self._harness.verdict(facts)

    def update(self, snapshot: RunSnapshot) -> None:
        if snapshot.live_url and not self._live_url_shown:
            self._live_url_shown = True
            hint = f" ({snapshot.live_hint})" if snapshot.live_hint else ""
            self.console.print(f"live page: {snapshot.live_url}{hint}", highlight=False, markup=False)
        verdict = self.harness(snapshot)
        if self.plain:
            now = time.monotonic()
            if snapshot.phase != self._last_phase or now - self._last_line >= PLAIN_EVERY:
                self.console.print(_line(snapshot, verdict), highlight=False, markup=False, soft_wrap=True)
                self._last_line, self._last_phase = now, snapshot.phase
            return
        if self._live is None:
            self._live = Live(_panel(snapshot, verdict), console=self.console, refresh_per_second=4, transient=False)
            self._live.start()
        else:
            self._live.update(_panel(snapshot, verdict))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def outcome(self, outcome: RunOutcome, summary: Summary | None, kinds: dict[str, Summary] | None = None) -> None:
        """The summary (with a row per kind of peer when `kinds` has two), the files, and what went wrong."""
        if summary is not None and summary.metrics:
            from peerperf.analysis.text import kinds_table, print_summary

            title = f"test {outcome.test_id}: {summary['peers']} peers, {summary['datapoints']} datapoints"
            print_summary(self.console, summary, title)
            if kinds:
                self.console.print(kinds_table(kinds, f"test {outcome.test_id} by kind of peer"))
        elif summary is not None:
            self.console.print(f"[red]test {outcome.test_id}: its files hold no datapoints[/]", highlight=False)
        for label, path in (("JSON", outcome.json_path), ("Parquet", outcome.parquet_path)):
            if path is not None:
                self.console.print(f"{label}: {path}", highlight=False)
        if outcome.lost:
            where = f" (peer hosts' logs: {outcome.log_dir})" if outcome.log_dir else ""
            self.console.print(f"[red]{len(outcome.lost)} peers lost when their host failed[/]{where}:")
            for peer_id, why in list(outcome.lost.items())[:20]:
                self.console.print(f"  {peer_id}: {why}", highlight=False)
        if outcome.rejected:
            self.console.print(f"[red]{outcome.rejected} datapoints were refused by the results service[/]")
        if outcome.relay is not None:
            self.console.print(relay_line(outcome.relay), highlight=False)
        if outcome.missing:
            self.console.print(f"[yellow]{len(outcome.missing)} peers missing[/]:")
            for peer_id, why in list(outcome.missing.items())[:20]:
                self.console.print(f"  {peer_id}: {why}", highlight=False)
        if outcome.ok:
            self.console.print(f"[green]done[/]: test {outcome.test_id}")
        else:
            self.console.print(f"[red]failed[/]: {outcome.reason or 'see above'}")

    def assertions(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            mark = "[green]ok[/]" if outcome.passed else "[bold red]FAILED[/]"
            self.console.print(f"assert {mark}: {outcome.message}", highlight=False)


def _logs(s: RunSnapshot) -> str:
    return f"the peer hosts' logs, {s.log_dir}/worker-*.err" if s.log_dir else "the peer hosts' logs"


def _so_far(verdict: Verdict | None) -> str:
    """The verdict so far in a few words: its status and first reason."""
    if verdict is None:
        return "harness so far: no host window yet"
    return f"harness so far: {verdict.status}" + (f" ({verdict.reasons[0]})" if verdict.reasons else "")


def _line(s: RunSnapshot, verdict: Verdict | None = None) -> str:
    layers = f" in {s.layers}" if s.layers else ""
    if s.phase != "running":
        nodes = f" on {s.nodes} node(s)" if s.nodes else ""
        failed = f", failed {s.failed}" if s.failed else ""
        return f"[{s.phase}] peers ready {s.ready}/{s.peers}{layers}{nodes}{failed}"
    peers = f"peers {s.ready}/{s.peers}" if s.target is None else f"active {s.ready} target {s.target:.0f} of {s.peers}"
    return (
        f"[running] {s.elapsed:5.0f}/{s.duration:.0f} s  {peers}{layers} on {s.nodes} node(s)  "
        f"originated {s.originated_per_second:.0f}/s  received {s.received_per_second:.0f}/s  "
        f"connections {s.connections_mean:.1f} (min {s.connections_min})  "
        f"tick lag p99 {s.tick_lag_p99_ms:.1f} ms  cpu {s.cpu_max:.0f}%  datapoints {s.datapoints}"
        + (f"  ROUTINE ERRORS {s.routine_errors} (see {_logs(s)})" if s.routine_errors else "")
        + (f"  HARNESS ERRORS {s.harness_errors} (see {_logs(s)})" if s.harness_errors else "")
        + (f"  REJECTED DATAPOINTS {s.rejected}" if s.rejected else "")
        + (f"  PEERS LOST {s.lost}" if s.lost else "")
        + (f"  influx: {_relay_counts(s.relay)}" if s.relay else "")
        + f"  {_so_far(verdict)}"
    )


def relay_line(stats: RelayStats) -> str:
    """The InfluxDB relay in the run summary: never silent about points that did not get there."""
    colour = "red" if stats.not_relayed else "green"
    error = f"; last error: {escape(stats.last_error)}" if stats.not_relayed and stats.last_error else ""
    return f"InfluxDB relay to {escape(stats.target)}: [{colour}]{_relay_counts(stats)}[/]{error}"


def _relay_counts(stats: RelayStats) -> str:
    text = f"{stats.written} points written, {stats.delayed} delayed, {stats.not_relayed} not relayed"
    return text + (f" ({stats.pending} pending)" if stats.pending else "")


def _panel(s: RunSnapshot, verdict: Verdict | None = None) -> Table:
    table = Table(title=f"peerperf: {s.phase}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    remaining = max(0.0, s.duration - s.elapsed)
    table.add_row("peers ready", f"{s.ready}/{s.peers}" + (f"  ({s.failed} failed)" if s.failed else ""))
    if s.target is not None:
        table.add_row("active / target", f"{s.ready} / {s.target:.0f} (stages)")
    if s.layers:
        table.add_row("layers", s.layers)
    table.add_row("nodes", str(s.nodes))
    table.add_row("elapsed / remaining", f"{s.elapsed:.0f} s / {remaining:.0f} s")
    table.add_row("originated / received", f"{s.originated_per_second:.0f} / {s.received_per_second:.0f} packets/s")
    table.add_row("connections per peer", f"{s.connections_mean:.1f} (min {s.connections_min})")
    lag_style = "red" if s.tick_lag_p99_ms > LATE_TICK_MS else "green"
    table.add_row("worst tick lag p99", f"[{lag_style}]{s.tick_lag_p99_ms:.1f} ms[/] (limit {LATE_TICK_MS:.1f} ms)")
    cpu_style = "red" if s.cpu_max >= CPU_BOUND_PERCENT else "green"
    table.add_row("worst host CPU", f"[{cpu_style}]{s.cpu_max:.0f}%[/] of a core")
    status = "green" if verdict is not None and verdict.status == "healthy" else "red"
    table.add_row("harness so far", f"[{status}]{escape(_so_far(verdict).split(': ', 1)[1])}[/]")
    table.add_row("datapoints", str(s.datapoints))
    if s.routine_errors:
        table.add_row("routine errors", f"[red]{s.routine_errors}[/] (see {_logs(s)})")
    if s.harness_errors:
        table.add_row("harness errors", f"[red]{s.harness_errors}[/] (see {_logs(s)})")
    if s.rejected:
        table.add_row("datapoints rejected", f"[red]{s.rejected}[/]")
    if s.lost:
        table.add_row("peers lost (host failed)", f"[red]{s.lost}[/]")
    if s.live_url:
        table.add_row("live page", s.live_url)
    if s.relay is not None:
        style = "red" if s.relay.not_relayed else "green"
        table.add_row("InfluxDB relay", f"{escape(s.relay.target)}: [{style}]{_relay_counts(s.relay)}[/]")
    return table
