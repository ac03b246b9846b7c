"""`python -m peerperf.run`: one command runs a whole performance test and gives its verdict.

From Python, `run(RunConfig(peers=8, duration=30))` does the same and returns a `RunResult`; `main`
(the command) parses its arguments into those, calls `run` and prints what it returned.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from peerperf.analysis.assertions import Threshold, check
from peerperf.analysis.assertions import parse as parse_threshold
from peerperf.cluster.orchestrator import Orchestrator
from peerperf.config import RUN_MANAGED_PEER_SETTINGS, RUN_PEER_DEFAULTS, RunConfig, recorded_settings, with_stages
from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.storage import check_writable
from peerperf.run_result import (
    BAD_ARGUMENTS,
    OK,
    UNHEALTHY,
    RunPaths,
    RunResult,
    exit_code,
    run_summary,
    write_files,
)
from peerperf.run_state import RunOutcome, RunSnapshot
from peerperf.runview import RunView
from peerperf.settings import add_arguments, given, resolve
from peerperf.sim.impairment_plan import ImpairmentSettings, impairment_plan
from peerperf.sim.routines import parse_mix

__all__ = ["RunConfig", "RunPaths", "RunResult", "main", "parse", "run"]

QUIET_LOGGERS = ("aioice", "aiortc", "aiohttp.access", "peerperf.peer", "peerperf.lighthouse")


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


def run(
    config: RunConfig,
    *,
    assertions: Iterable[str | Threshold] = (),
    impairment: ImpairmentSettings | None = None,
    report: Path | str | None = None,
    summary_json: Path | str | None = None,
    junit_xml: Path | str | None = None,
    allow_unhealthy: bool = False,
    progress: Callable[[RunSnapshot], None] | None = None,
) -> RunResult:
    """Run one whole test, as `python -m peerperf.run` does, and return what it found (printing nothing).

    Starts (or joins) Ray, the lighthouse and the results service, runs the peers, summarises their
    datapoints, checks `assertions` (`delivery>=0.99`, ...) and writes the files asked for.
    `progress` sees a snapshot about once a second. `ConfigError` before anything starts for bad
    input: a routine, impairment, assertion or output folder that cannot be used."""
    impairment = impairment or ImpairmentSettings()
    thresholds = [parse_threshold(a) if isinstance(a, str) else a for a in assertions]
    parse_mix(config.routine)
    plan = impairment_plan(impairment)
    if config.results_url is None:  # the embedded service writes here: a full disk is refused now
        check_writable(config.output_folder)
    settings = recorded_settings(config, impairment)
    orchestrator = Orchestrator(config, progress or (lambda _: None), plan, settings)
    outcome = asyncio.run(_orchestrate(orchestrator))
    finished = run_summary(settings, outcome)
    paths = RunPaths(outcome.json_path, outcome.parquet_path)
    if finished is None:
        return RunResult(outcome, None, (), paths, exit_code(outcome, bool(thresholds), None, allow_unhealthy))
    outcomes = tuple(check(finished.summary, thresholds, finished.by))
    paths = write_files(finished, outcome, outcomes, paths, report, summary_json, junit_xml)
    failed = any(not o.passed for o in outcomes)
    code = exit_code(outcome, failed, finished.summary, allow_unhealthy)
    return RunResult(outcome, finished.summary, outcomes, paths, code, finished.kinds())


async def _orchestrate(orchestrator: Orchestrator) -> RunOutcome:
    """The orchestrator's run; Ctrl-C (or SIGTERM) asks it to stop, a second one stops waiting."""
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


def main(argv: list[str] | None = None) -> int:
    """`python -m peerperf.run`: parse the arguments, `run`, show the outcome, return the exit code."""
    try:
        config, options, args = parse(argv)
        impairment = resolve(ImpairmentSettings, args)
    except ConfigError as exc:
        print(f"peerperf.run: {exc}", file=sys.stderr)
        return BAD_ARGUMENTS
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    view = RunView(plain=config.plain)
    try:
        result = run(
            config,
            assertions=options.thresholds,
            impairment=impairment,
            report=options.report,
            summary_json=options.summary_json,
            junit_xml=options.junit_xml,
            allow_unhealthy=options.allow_unhealthy,
            progress=view.update,
        )
    except ConfigError as exc:
        print(f"peerperf.run: {exc}", file=sys.stderr)
        return BAD_ARGUMENTS
    finally:
        view.close()
    show(view, result, options)
    return result.exit_code


def show(view: RunView, result: RunResult, options: VerdictOptions) -> None:
    """What the CLI prints once the run is over: the summary, the assertions, the files, the exit code's why."""
    outcome = result.outcome
    view.outcome(outcome, result.summary, result.kinds)
    if result.summary is None and options.thresholds:
        view.console.print("[red]assertions not checked[/]: the run has no results to summarise")
    view.assertions(list(result.outcomes))
    for label, path in (
        ("JUnit XML", result.paths.junit_xml),
        ("summary JSON", result.paths.summary_json),
        ("HTML report", result.paths.report),
    ):
        if path is not None:
            view.console.print(f"{label}: {path}", highlight=False)
    if outcome.bad_arguments:
        print(f"peerperf.run: {outcome.reason}", file=sys.stderr)
    status = str(result.summary.verdict.status) if result.summary is not None else "unknown"
    if result.exit_code == UNHEALTHY:
        view.console.print(
            f"[bold red]exit code 3[/]: the test completed, but the harness was not healthy ({status}): these "
            "figures measure the load generator too (--allow-unhealthy accepts it)",
            highlight=False,
        )
    elif result.exit_code == OK and status != "healthy":
        view.console.print(f"harness {status}: accepted (--allow-unhealthy)", highlight=False)


if __name__ == "__main__":
    sys.exit(main())
