"""A peer host process loads what it uses: not pyarrow, numpy or pandas (about 50 MB each process)."""

from __future__ import annotations

import subprocess
import sys


def test_the_peer_host_and_its_results_client_import_no_dataframe_stack() -> None:
    code = (
        "import peerperf, sys\n"
        "import peerperf.cluster.peerhost_actor, peerperf.cluster.actor_results_client, peerperf.routines.default\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
