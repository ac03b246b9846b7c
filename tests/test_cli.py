"""The `peerperf` command's own options: `--version` says which data path peers would run here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from peerperf.config import RunConfig, recorded_settings
from peerperf.peer.settings import PeerSettings


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ({}, "data path stock"),
        ({"PEERPERF_DATA_PATH": "compiled"}, "data path compiled"),
        ({"PEERPERF_DATA_PATH": "python-fast"}, "data path python-fast"),
        ({"PEERPERF_DATA_PATH": "stock"}, "data path stock"),
    ],
)
def test_version_names_the_data_path(environment: dict[str, str], said: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PEERPERF_DATA_PATH"} | environment
    out = subprocess.run(
        [sys.executable, "-m", "peerperf.cli", "--version"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.startswith("peerperf ") and said in out and "aiortc 1.16.0" in out


def test_the_metadata_records_the_data_path_asked_for_and_the_one_that_ran() -> None:
    for asked in ("compiled", "python-fast", "stock"):
        recorded = recorded_settings(RunConfig(peer=PeerSettings(data_path=asked)))
        assert (recorded["data_path"], recorded["data_path_ran"]) == (asked, asked)
