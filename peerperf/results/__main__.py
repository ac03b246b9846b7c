"""`python -m peerperf.results`: the results service and its HTTP gateway, standalone (no Ray)."""

from __future__ import annotations

import sys

from aiohttp import web

from peerperf.httpserver import run_service
from peerperf.results.gateway import create_app
from peerperf.results.service import ResultsService
from peerperf.results.settings import ResultsSettings


def build(settings: ResultsSettings) -> web.Application:
    service = ResultsService(settings)
    print(f"results folder: {service.folder}", flush=True)
    return create_app(service)


def main(argv: list[str] | None = None) -> int:
    # The banner is the original's start line; its scripts waited for "server listening on".
    return run_service(
        "results",
        __doc__,
        ResultsSettings,
        build,
        lambda port: f"==> Performance test results server listening on port {port}.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
