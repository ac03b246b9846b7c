"""`python -m peerperf.run`: one command runs a whole performance test and gives its verdict.

Starts (or joins) Ray, the lighthouse and the results service, places the simulated peers, starts
the test when every peer has joined, shows progress, finishes, and prints the summary (delivery,
loss, latency, throughput, the harness verdict) and the paths of the results. `--assert` checks
thresholds on the summary. Exit codes: 0 success; 1 the run failed or an assertion failed; 2 bad
arguments; 3 the run completed but the harness was not healthy (saturated, bursts, faulty or
unknown: the figures measure the load generator too), unless `--allow-unhealthy`; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peerperf.analysis.assertions import Outcome, Threshold, check, write_json, write_junit
from peerperf.analysis.assertions import parse as parse_threshold
from peerperf.cluster.orchestrator import Orchestrator
from peerperf.config import RUN_MANAGED_PEER_SETTINGS, RUN_PEER_DEFAULTS, RunConfig, recorded_settings, with_stages
from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.storage import check_writable
from peerperf.run_state import RunOutcome
from peerperf.runview import RunView
from peerperf.settings import add_arguments, given, resolve
from peerperf.sim.impairment_plan import ImpairmentSettings, impairment_plan
from peerperf.sim.routines import parse_mix

if TYPE_CHECKING:  # pandas and the analysis load only once there are results: `--help` stays quick
    import pandas as pd

    from peerperf.analysis.summary import Summary

QUIET_LOGGERS = ("aioice", "aiortc", "aiohttp.access", "peerperf.peer", "peerperf.lighthouse")


#: Exit codes (documented in the README's "Exit codes").
OK, FAILED, BAD_ARGUMENTS, UNHEALTHY, INTERRUPTED = 0, 1, 2, 3, 130


@dataclass(frozen=True)
class VerdictOptions:
    """What to check and write once the run has a summary."""

    thresholds: list[Threshold] = field(default_factory=list)
    junit_xml: Path | None = None
    summary_json: Path | None = None
    report: Path | None = None
    #: Exit 0 (not 3) when the run completed but the harness was not healthy.
    allow_unhealthy: bool = False


def parse(argv: list[str] | None) -> tuple[RunConfig, VerdictOptions, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m peerperf.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser, RunConfig)
    add_arguments(parser, ImpairmentSettings)
    add_arguments(
        parser.add_argument_group("peer library settings, for every peer"),
        PeerSettings,
        RUN_MANAGED_PEER_SETTINGS,
        RUN_PEER_DEFAULTS,
    )
    add_arguments(parser.add_argument_group("InfluxDB relay of the embedded results service"), InfluxSettings)
    verdict = parser.add_argument_group("verdict")
    verdict.add_argument(
        "--assert",
        dest="assertions",
        action="append",
        default=[],
        metavar="EXPR",
        help="a threshold on the summary, e.g. 'delivery>=0.99', 'latency.position.p99<250ms', 'harness==healthy' "
        "(repeatable; a failed one makes the exit code 1)",
    )
    verdict.add_argument("--junit-xml", type=Path, help="write the assertions as a JUnit XML report here")
    verdict.add_argument("--summary-json", type=Path, help="write the summary and assertions as JSON here")
    verdict.add_argument("--report", type=Path, help="write the self-contained HTML report here")
    verdict.add_argument(
        "--allow-unhealthy",
        action="store_true",
        help="exit 0 even when the harness was not healthy (by default such a run exits 3: its figures measure "
        "the load generator too)",
    )
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING or ERROR")
    args = parser.parse_args(argv)
    peer = resolve(PeerSettings, args, defaults=RUN_PEER_DEFAULTS)
    config = resolve(RunConfig, args, peer=peer, influx=resolve(InfluxSettings, args))
    config = with_stages(config, given(RunConfig, "peers", args), given(RunConfig, "duration", args))
    options = VerdictOptions(
        [parse_threshold(text) for text in args.assertions],
        args.junit_xml,
        args.summary_json,
        args.report,
        args.allow_unhealthy,
    )
    return config, options, args


async def _run(orchestrator: Orchestrator) -> RunOutcome:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_signal() -> None:
        if orchestrator.interrupt() > 1 and task is not None:  # second Ctrl-C: stop waiting, clean up now
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        return await orchestrator.run()
    except asyncio.CancelledError:
        orchestrator.outcome.interrupted = True
        orchestrator.outcome.reason = "interrupted twice: stopped without waiting for the hosts"
        return orchestrator.outcome


@dataclass(frozen=True)
class Finished:
    """The finished test's datapoints (read once) and their summary."""

    frame: pd.DataFrame
    summary: Summary
    #: What the run recorded about itself (the summary's metadata), for summaries by group.
    metadata: dict[str, Any] = field(default_factory=dict)

    def by(self, column: str) -> dict[str, Summary]:
        """One summary per value of a datapoint column (`--assert 'stage:2.delivery>=0.99'`)."""
        from peerperf.analysis.summary import summaries_by

        return summaries_by(self.frame, column, metadata=self.metadata)

    def kinds(self) -> dict[str, Summary]:
        """One summary per kind of peer when the test has two (python and browser), else none."""
        from peerperf.analysis.summary import mixed_kinds

        return self.by("kind") if mixed_kinds(self.frame) else {}


def run_summary(settings: dict[str, Any], outcome: RunOutcome) -> Finished | None:
    """The analysis summary of the finished test, with what the run knows about itself."""
    from peerperf.analysis.load import load_datapoints
    from peerperf.analysis.load import metadata as read_metadata
    from peerperf.analysis.summary import summary

    if outcome.parquet_path is None or not outcome.parquet_path.exists():
        return None
    frame = load_datapoints(outcome.parquet_path).assign(testId=outcome.test_id)
    metadata = {"settings": settings, **read_metadata(outcome.parquet_path)}
    metadata.update(
        rejectedDatapoints=outcome.rejected,
        peerIds=metadata.get("peerIds") or outcome.peer_ids,
        lostPeers=outcome.lost,
    )
    return Finished(frame, summary(frame, metadata=metadata), metadata)


def main(argv: list[str] | None = None) -> int:
    try:
        config, options, args = parse(argv)
        parse_mix(config.routine)
        impairment_settings = resolve(ImpairmentSettings, args)
        impairment = impairment_plan(impairment_settings)
        if config.results_url is None:  # the embedded service writes here: a full disk is refused now
            check_writable(Path(config.output).expanduser())
    except ConfigError as exc:
        print(f"peerperf.run: {exc}", file=sys.stderr)
        return BAD_ARGUMENTS
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    view = RunView(plain=config.plain)
    settings = recorded_settings(config, impairment_settings)
    orchestrator = Orchestrator(config, view.update, impairment, settings)
    try:
        outcome = asyncio.run(_run(orchestrator))
    finally:
        view.close()
    finished = run_summary(settings, outcome)
    view.outcome(outcome, finished.summary if finished else None, finished.kinds() if finished else {})
    failed = _verdict(view, options, finished, outcome)
    if outcome.bad_arguments:
        print(f"peerperf.run: {outcome.reason}", file=sys.stderr)
        return 2
    if not outcome.ok:
        return INTERRUPTED if outcome.interrupted else FAILED
    if failed:
        return FAILED
    return _health_code(view, finished, options.allow_unhealthy)


def _health_code(view: RunView, finished: Finished | None, allow_unhealthy: bool) -> int:
    """0 when the harness was healthy (or that is allowed), else 3, said in words."""
    status = str(finished.summary.verdict.status) if finished is not None else "unknown"
    if status == "healthy":
        return OK
    if allow_unhealthy:
        view.console.print(f"harness {status}: accepted (--allow-unhealthy)", highlight=False)
        return OK
    view.console.print(
        f"[bold red]exit code 3[/]: the test completed, but the harness was not healthy ({status}): these figures "
        "measure the load generator too (--allow-unhealthy accepts it)",
        highlight=False,
    )
    return UNHEALTHY


def _verdict(view: RunView, options: VerdictOptions, finished: Finished | None, outcome: RunOutcome) -> bool:
    """Check the thresholds and write the requested files; True when an assertion failed."""
    if finished is None:
        if options.thresholds:
            view.console.print("[red]assertions not checked[/]: the run has no results to summarise")
        return bool(options.thresholds)
    result = finished.summary
    outcomes: list[Outcome] = check(result, options.thresholds, finished.by)
    view.assertions(outcomes)
    if options.junit_xml is not None:
        write_junit(options.junit_xml, outcomes, suite=f"peerperf.{outcome.test_id}")
        view.console.print(f"JUnit XML: {options.junit_xml}", highlight=False)
    if options.summary_json is not None:
        write_json(options.summary_json, result, outcomes)
        view.console.print(f"summary JSON: {options.summary_json}", highlight=False)
    if options.report is not None:
        from peerperf.analysis.load import topology
        from peerperf.analysis.report import report

        samples = topology(outcome.parquet_path) if outcome.parquet_path is not None else None
        report(finished.frame, result, options.report, topology=samples)
        view.console.print(f"HTML report: {options.report}", highlight=False)
    return any(not o.passed for o in outcomes)


if __name__ == "__main__":
    sys.exit(main())
