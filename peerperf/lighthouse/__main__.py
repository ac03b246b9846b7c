"""`python -m peerperf.lighthouse`: run a standalone lighthouse until Ctrl-C."""

from __future__ import annotations

import sys

from peerperf.httpserver import run_service
from peerperf.lighthouse.app import create_app
from peerperf.lighthouse.settings import LighthouseSettings


def main(argv: list[str] | None = None) -> int:
    # The banner is the original's start line, which its test scripts waited for.
    return run_service(
        "lighthouse",
        __doc__,
        LighthouseSettings,
        create_app,
        lambda port: f"==> Lighthouse listening on port {port}.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
