"""CPU and memory of a process and everything below it (a Chromium and its renderers), from /proc.

A browser peer's cost is spread over processes (browser, GPU, network and one renderer per site), so its
host measures the whole tree: CPU as user + system time of every live process in it (with what the
children they reaped had used), memory as the sum of their proportional set sizes (PSS: shared pages
counted once across the tree, where RSS would count them in every process).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class TreeUsage:
    """One reading of a process tree."""

    cpu_seconds: float
    pss_mb: float
    processes: int


def tree_usage(root: int) -> TreeUsage:
    """What `root` and its descendants have used (zeros once `root` is gone)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = sum(int(f) for f in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime
    tree = [pid for pid in parents if _below(pid, root, parents)]
    return TreeUsage(sum(cpu[pid] for pid in tree), sum(_pss_kb(pid) for pid in tree) / 1024, len(tree))


def _below(pid: int, root: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        if pid == root:
            return True
        pid = parents.get(pid, 0)
    return pid == root


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
