"""`python -m peerperf.results`: the results service, its HTTP gateway and live page, standalone (no Ray)."""

from __future__ import annotations

import sys

from aiohttp import web

from peerperf.httpserver import run_service
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.settings import ResultsSettings
from peerperf.results.stack import ResultsStack


def build(settings: ResultsSettings, influx: InfluxSettings) -> web.Application:
    stack = ResultsStack.build(settings, influx)
    print(f"results folder: {stack.service.folder}", flush=True)
    print(f"InfluxDB relay: {influx.describe()}", flush=True)
    return stack.app()


def main(argv: list[str] | None = None) -> int:
    # The banner is the original's start line; its scripts waited for "server listening on".
    return run_service(
        "results",
        __doc__,
        ResultsSettings,
        build,
        lambda port: f"==> Performance test results server listening on port {port}.",
        argv,
        extra_settings=(InfluxSettings,),
    )


if __name__ == "__main__":
    sys.exit(main())
