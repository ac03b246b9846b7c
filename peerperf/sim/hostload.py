"""The host's load and the machine's: CPU shares, memory, file descriptors, load average.

Both are evidence for the harness verdict: a host process that used a whole core could not keep
up, while a machine busy with other work slows the run without our process being to blame.
Read from /proc without extra dependencies; off Linux the machine figures are None.
"""

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
    open_fds: int | None = None
    #: Busy share of all the machine's CPUs since the previous sample, in %.
    machine_cpu_percent: float | None = None
    machine_cpus: int | None = None
    load1: float | None = None


class HostLoad:
    """Samples this process and the machine; the first sample covers the time since construction."""

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._cpu = time.process_time()
        self._machine = _machine_ticks()

    def sample(self) -> LoadSample:
        wall, cpu = time.monotonic(), time.process_time()
        elapsed = wall - self._wall
        percent = 100.0 * (cpu - self._cpu) / elapsed if elapsed > 0 else 0.0
        self._wall, self._cpu = wall, cpu
        machine = _machine_ticks()
        machine_percent = None
        if machine is not None and self._machine is not None and machine[1] > self._machine[1]:
            machine_percent = 100.0 * (machine[0] - self._machine[0]) / (machine[1] - self._machine[1])
        self._machine = machine
        return LoadSample(percent, _rss_mb(), _open_fds(), machine_percent, os.cpu_count(), _load1())


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):  # not Linux: peak RSS is the best portable figure
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _machine_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot; busy excludes idle and iowait."""
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return total - values[3] - values[4], total


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _load1() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
