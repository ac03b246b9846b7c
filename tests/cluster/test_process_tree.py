"""A process tree's usage counts its children: their CPU time and their memory (PSS), and nothing once gone."""

from __future__ import annotations

import subprocess
import sys
import time

from peerperf.cluster.process_tree import tree_usage

BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_the_tree_counts_a_busy_child() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BUSY!r}]); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        before = tree_usage(parent.pid)
        deadline = time.monotonic() + 30
        while tree_usage(parent.pid).cpu_seconds - before.cpu_seconds < 0.25:  # bounded poll for the grandchild's work
            assert time.monotonic() < deadline, "the busy grandchild's CPU never showed"
            time.sleep(0.05)
        after = tree_usage(parent.pid)
        assert after.pss_mb > 1 and after.processes >= 1
    finally:
        parent.kill()
        parent.wait()
    assert tree_usage(parent.pid) == tree_usage(2**22 + 1)  # gone: an empty tree, like any unknown pid
