"""`python -m peerperf.lighthouse`: run a standalone lighthouse until Ctrl-C."""

from __future__ import annotations

import sys

from peerperf.httpserver import ServiceCommand
from peerperf.lighthouse.app import create_app
from peerperf.lighthouse.settings import LighthouseSettings

#: The banner is the original's start line, which its test scripts waited for.
COMMAND = ServiceCommand(
    "lighthouse", __doc__, LighthouseSettings, create_app, "==> Lighthouse listening on port {port}."
)
main = COMMAND.main

if __name__ == "__main__":
    sys.exit(main())
