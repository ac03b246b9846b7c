"""`python -m peerperf.results`: the results service and its HTTP gateway, standalone (no Ray)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from peerperf.errors import ConfigError
from peerperf.httpserver import serve_until_signal
from peerperf.results.gateway import create_app
from peerperf.results.service import ResultsService
from peerperf.results.settings import ResultsSettings
from peerperf.settings import add_arguments, resolve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peerperf.results", description=__doc__)
    add_arguments(parser, ResultsSettings)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="[results][%(levelname)s] %(message)s")
    try:
        settings = resolve(ResultsSettings, args)
        service = ResultsService(settings)
    except (ConfigError, OSError) as exc:
        print(f"results: {exc}", file=sys.stderr)
        return 2
    print(f"results folder: {service.folder}", flush=True)
    # The original printed this line and its scripts waited for "server listening on".
    asyncio.run(
        serve_until_signal(
            create_app(service),
            settings.host,
            settings.port,
            lambda port: f"==> Performance test results server listening on port {port}.",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
