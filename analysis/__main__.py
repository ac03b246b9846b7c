"""`python -m analysis`: the analysis commands without the `peerperf` entry point."""

import sys

from analysis.cli import main

sys.exit(main())
