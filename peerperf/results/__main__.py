"""`python -m peerperf.results`: the results service, its HTTP gateway and live page, standalone (no Ray)."""

from __future__ import annotations

import gc
import sys

from aiohttp import web

from peerperf.httpserver import ServiceCommand
from peerperf.results.assembly import ResultsStack
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.settings import ResultsSettings


def build(settings: ResultsSettings, influx: InfluxSettings) -> web.Application:
    stack = ResultsStack.build(settings, influx)
    print(f"results folder: {stack.service.folder}", flush=True)
    print(f"InfluxDB relay: {influx.describe()}", flush=True)
    app = stack.app()
    # What start-up built (modules, pyarrow and pandas) stays for good: frozen, it is left out of the
    # collector's full passes, which walked it on the event loop (50-100 ms each under load).
    gc.freeze()
    return app


#: The banner is the original's start line; its scripts waited for "server listening on".
COMMAND = ServiceCommand(
    "results",
    __doc__,
    ResultsSettings,
    build,
    "==> Performance test results server listening on port {port}.",
    extra_settings=(InfluxSettings,),
)
main = COMMAND.main

if __name__ == "__main__":
    sys.exit(main())
