"""Where a process's CPU goes by library, sampled by Linux `perf` from outside the interpreter.

cProfile counts Python calls well but inflates their cost (it runs code on every call and return), so it
cannot say how much of a message's CPU is the interpreter and how much is OpenSSL, the kernel or uvloop.
`perf record -p <pid>` samples the running process without touching it; `perf report --sort dso` gives
each library's share of the samples. Those shares are what says whether moving more code from Python to
C can still pay: only the interpreter's share can shrink that way.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Library file names (prefixes) grouped into what they are.
GROUPS = {
    "python interpreter": ("libpython", "python3"),
    "kernel": ("[kernel",),
    "OpenSSL (cryptography's)": ("_rust.abi3",),
    "uvloop": ("loop.cpython",),
    "peerperf C": ("_datapath",),
    "libc": ("libc.so",),
}
SAMPLE_HZ = 2000


@dataclass
class Sampling:
    """A `perf record` of this process under way."""

    process: asyncio.subprocess.Process
    data: Path


def available() -> str:
    """ "" when `perf` can sample here, else why not."""
    return "" if shutil.which("perf") else "Linux perf is not installed (the --perf option needs it)"


async def start(seconds: float) -> Sampling:
    """Sample this process for `seconds`."""
    data = Path(tempfile.mkdtemp(prefix="perf-shares-")) / "perf.data"
    process = await asyncio.create_subprocess_exec(
        "perf", "record", "-q", "-F", str(SAMPLE_HZ), "-o", str(data), "-p", str(os.getpid()), "--", "sleep",
        str(seconds),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return Sampling(process, data)


async def finish(sampling: Sampling) -> dict[str, float]:
    """Wait for the sampling to end; each group's share of the samples, in percent (the rest as "other")."""
    _, err = await sampling.process.communicate()
    if sampling.process.returncode != 0:
        raise RuntimeError(f"perf record failed: {err.decode(errors='replace')[-2000:]}")
    report = await asyncio.create_subprocess_exec(
        "perf", "report", "-i", str(sampling.data), "--sort", "dso", "--stdio", "--percent-limit", "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await report.communicate()
    shutil.rmtree(sampling.data.parent, ignore_errors=True)
    if report.returncode != 0:
        raise RuntimeError(f"perf report failed: {err.decode(errors='replace')[-2000:]}")
    return grouped(out.decode(errors="replace"))


def grouped(report: str) -> dict[str, float]:
    """`perf report --sort dso --stdio` lines ("  61.97%  libpython3.11.so.1.0") summed into `GROUPS`."""
    shares = dict.fromkeys([*GROUPS, "other"], 0.0)
    for line in report.splitlines():
        fields = line.split()
        if len(fields) < 2 or line.lstrip().startswith("#") or not fields[0].endswith("%"):
            continue
        percent, dso = float(fields[0].rstrip("%")), " ".join(fields[1:])
        group = next((name for name, prefixes in GROUPS.items() if dso.startswith(prefixes)), "other")
        shares[group] += percent
    if not any(shares.values()):
        raise RuntimeError(f"perf report gave no samples:\n{report[-2000:]}")
    return {name: round(share, 1) for name, share in shares.items()}
