"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import peerperf  # noqa: F401  (first: fixes Ray's network mode to loopback before any test imports ray)
from tests.metricsdb import InfluxD, influxd
from tests.relayedrun import RelayedRun, run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The read-only `shared/` folder beside the checkout (PEERPERF_SHARED_DIR overrides)."""
    return Path(os.environ.get("PEERPERF_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def golden_vectors_path() -> Path:
    path = shared_dir() / "docs" / "reference" / "golden-vectors.json"
    if not path.exists():
        pytest.skip(
            f"{path} is absent: the golden vectors come from the original system and are "
            "not copied into the project; set PEERPERF_SHARED_DIR to the shared/ folder"
        )
    return path


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxD]:
    """A real InfluxDB 1.x on a free loopback port (database `comms`), shared by the relay and dashboard tests."""
    with influxd(tmp_path_factory.mktemp("influxd")) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def relayed_1x(influx: InfluxD, tmp_path_factory: pytest.TempPathFactory) -> RelayedRun:
    """One real run relaying through InfluxDB 1.x's `/write?db=comms` (env vars, as a user would)."""
    return run_cli(tmp_path_factory.mktemp("run-1x"), {"INFLUX_URL": influx.url, "INFLUX_DATABASE": "comms"})
