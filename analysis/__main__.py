"""`python -m peerperf.analysis` (or `python -m analysis` in a checkout): the analysis commands without the
`peerperf` entry point."""

import sys

from peerperf.analysis.cli import main

sys.exit(main())
