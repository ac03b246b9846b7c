"""A local Ray lets its raylet start many workers at once (Ray's default, the CPU count, serialises
starting one actor per peer)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from peerperf.cluster.runtime import STARTUP_CONCURRENCY_ENV, WORKER_STARTUP_CONCURRENCY
from tests.cluster.processes import descendants_named


def test_the_local_raylet_gets_peerperfs_worker_startup_concurrency(local_ray: dict[str, Any]) -> None:
    assert (os.cpu_count() or 1) < WORKER_STARTUP_CONCURRENCY
    (raylet,) = descendants_named(os.getpid(), "raylet/raylet")
    environment = Path(f"/proc/{raylet}/environ").read_bytes().split(b"\0")
    expected = f"{STARTUP_CONCURRENCY_ENV}={WORKER_STARTUP_CONCURRENCY}".encode()
    assert expected in environment, f"the raylet was started without {expected.decode()}"
