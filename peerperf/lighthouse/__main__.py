"""`python -m peerperf.lighthouse`: run a standalone lighthouse until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from peerperf.errors import ConfigError
from peerperf.httpserver import serve_until_signal
from peerperf.lighthouse.app import create_app
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.settings import add_arguments, resolve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peerperf.lighthouse", description=__doc__)
    add_arguments(parser, LighthouseSettings)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="[lighthouse][%(levelname)s] %(message)s")
    try:
        settings = resolve(LighthouseSettings, args)
    except ConfigError as exc:
        print(f"lighthouse: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    # The original printed this line and its test scripts waited for it.
    asyncio.run(
        serve_until_signal(app, settings.host, settings.port, lambda port: f"==> Lighthouse listening on port {port}.")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
