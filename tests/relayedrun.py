"""A real `python -m peerperf.run` relaying to a metrics database, and its Parquet record to compare with."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from peerperf.analysis.results_files import load_datapoints
from tests.runcli import RUN_TIMEOUT, results_document

#: Fields compared between InfluxDB and Parquet: numbers, integers and a histogram's count.
COMPARED = ("sent", "receivedPerSecond", "originatedTotal", "uniqueReceived", "tickLagP99", "window")
#: The relay is what is tested, not the harness's health on a shared machine: `--allow-unhealthy`.
RUN_ARGS = (
    *("--peers", "3", "--duration", "8", "--stats-interval", "1000", "--ping-interval", "off", "--seed", "3"),
    "--allow-unhealthy",
)


@dataclass(frozen=True)
class RelayedRun:
    test_id: str
    output: str
    parquet: pd.DataFrame


def run_cli(folder: Path, env: dict[str, str]) -> RelayedRun:
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    environ.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, "-m", "peerperf.run", "--plain", *RUN_ARGS, "--output", str(folder)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    test_id = results_document(folder)["id"]
    return RelayedRun(test_id, output, load_datapoints(folder / f"{test_id}.parquet"))
