"""Shared by the bench scripts: machine facts, one measurement per child process, tables and JSON.

Every figure is compared with a baseline measured in the same run, interleaved round by round, so
the noise of a shared machine hits both sides alike. Each measurement runs in a child process of its
own (its own event loop, no memory or warm caches carried over), which prints one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
#: The load average when the bench started (this module is imported first thing), before its own work.
LOAD_AT_START = [round(x, 2) for x in os.getloadavg()]


def machine_facts() -> dict[str, Any]:
    """The machine, the versions, when the results were written and the load average at the bench's start and end."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "load_average_at_start": LOAD_AT_START,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "aiortc": version("aiortc"),
        "uvloop": version("uvloop"),
        "ray": version("ray"),
        "when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def run_child(script: str, args: list[str], timeout: float = 300) -> dict[str, Any]:
    """Run `bench/<script> --child ...` and return the JSON object it printed last."""
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), "--child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def start_service(
    command: list[str], log: Path, timeout: float = 60, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server (with `env` added to this environment) whose output goes to `log` (never a pipe
    nobody reads) and wait for its "listening on port N" line; its process and port."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    while not (found := re.search(r"listening on port (\d+)", log.read_text(errors="replace"))):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{command} did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    return process, int(found.group(1))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * width for width in widths))


def write_json(path: str, name: str, parameters: dict[str, Any], results: Any) -> None:
    document = {"benchmark": name, "machine": machine_facts(), "parameters": parameters, "results": results}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {path}")


def emit(result: dict[str, Any]) -> None:
    """A child's answer: one JSON line on stdout."""
    print(json.dumps(result), flush=True)
