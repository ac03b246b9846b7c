"""The host process's own load: CPU share and resident memory, read without extra dependencies."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadSample:
    #: CPU time this process used per wall second since the previous sample, in % of one core.
    cpu_percent: float
    rss_mb: float


class HostLoad:
    """Samples this process; the first sample covers the time since construction."""

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def sample(self) -> LoadSample:
        wall, cpu = time.monotonic(), time.process_time()
        elapsed = wall - self._wall
        percent = 100.0 * (cpu - self._cpu) / elapsed if elapsed > 0 else 0.0
        self._wall, self._cpu = wall, cpu
        return LoadSample(percent, _rss_mb())


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):  # not Linux: peak RSS is the best portable figure
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
