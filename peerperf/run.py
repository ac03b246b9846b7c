"""`python -m peerperf.run`: one command runs a whole performance test.

Starts (or joins) Ray, the lighthouse and the results service, places the simulated peers, starts
the test when every peer has joined, shows progress, finishes, and prints a summary and the paths
of the results. Exit code 0 on success, 1 on failure, 2 on bad arguments, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from analysis.load import load_datapoints
from analysis.summary import RunSummary, summarize
from peerperf.cluster.orchestrator import Orchestrator, RunOutcome
from peerperf.config import RunConfig
from peerperf.errors import ConfigError
from peerperf.runview import RunView
from peerperf.settings import add_arguments, resolve
from peerperf.sim.impairment_profiles import impairment_plan
from peerperf.sim.impairment_settings import ImpairmentSettings
from peerperf.sim.routines import parse_mix

QUIET_LOGGERS = ("aioice", "aiortc", "aiohttp.access", "peerperf.peer", "peerperf.lighthouse")


def parse(argv: list[str] | None) -> tuple[RunConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m peerperf.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser, RunConfig)
    add_arguments(parser, ImpairmentSettings)
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING or ERROR")
    args = parser.parse_args(argv)
    return resolve(RunConfig, args), args


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


def main(argv: list[str] | None = None) -> int:
    try:
        config, args = parse(argv)
        parse_mix(config.routine)
        impairment = impairment_plan(resolve(ImpairmentSettings, args))
    except ConfigError as exc:
        print(f"peerperf.run: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    view = RunView(plain=config.plain)
    orchestrator = Orchestrator(config, view.update, impairment)
    try:
        outcome = asyncio.run(_run(orchestrator))
    finally:
        view.close()
    summary: RunSummary | None = None
    if outcome.parquet_path is not None and outcome.parquet_path.exists():
        summary = summarize(load_datapoints(outcome.parquet_path))
    view.outcome(outcome, summary)
    if outcome.ok:
        return 0
    return 130 if outcome.interrupted else 1


if __name__ == "__main__":
    sys.exit(main())
