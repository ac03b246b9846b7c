"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import peerperf  # noqa: F401  (first: fixes Ray's network mode to loopback before any test imports ray)
from tests.metricsdb import InfluxD, influxd
from tests.prerequisites import MARKERS, Tool, missing, missing_by_marker, skip_reason, summary_line
from tests.relayedrun import RelayedRun, run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Fixtures that start a tool, and the marker a test using them must carry (checked at collection).
FIXTURE_MARKERS = {"influx": "influx", "victoria": "influx", "relayed_1x": "influx"}
_MISSING = pytest.StashKey[list[Tool]]()


def pytest_configure(config: pytest.Config) -> None:
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
    config.stash[_MISSING] = missing()


def pytest_report_header(config: pytest.Config) -> str:
    return summary_line(config.stash[_MISSING])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, with the reason, every test whose marker's tool is missing; refuse a test that uses a tool unmarked."""
    tools: list[Tool] = config.stash[_MISSING]
    absent = missing_by_marker(tools)
    for item in items:
        for fixture in sorted(set(getattr(item, "fixturenames", ())) & FIXTURE_MARKERS.keys()):
            needed = FIXTURE_MARKERS[fixture]
            if item.get_closest_marker(needed) is None:
                raise pytest.UsageError(f"{item.nodeid} uses `{fixture}` without @pytest.mark.{needed}")
        for marker, missing_tools in absent.items():
            if item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=skip_reason(marker, missing_tools)))


def shared_dir() -> Path:
    """The read-only `shared/` folder beside the checkout (PEERPERF_SHARED_DIR overrides)."""
    return Path(os.environ.get("PEERPERF_SHARED_DIR", REPO_ROOT.parent / "shared"))


#: The original system's golden vectors, copied verbatim from `shared/docs/reference/golden-vectors.json`
#: (data: tests/protocol/test_golden_vectors.py checks the copy still equals it when `shared/` is there).
GOLDEN_VECTORS = REPO_ROOT / "tests" / "protocol" / "golden_vectors.json"


@pytest.fixture(scope="session")
def golden_vectors_path() -> Path:
    return GOLDEN_VECTORS


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxD]:
    """A real InfluxDB 1.x on a free loopback port (database `comms`), shared by the relay and dashboard tests."""
    with influxd(tmp_path_factory.mktemp("influxd")) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def relayed_1x(influx: InfluxD, tmp_path_factory: pytest.TempPathFactory) -> RelayedRun:
    """One real run relaying through InfluxDB 1.x's `/write?db=comms` (env vars, as a user would)."""
    return run_cli(tmp_path_factory.mktemp("run-1x"), {"INFLUX_URL": influx.url, "INFLUX_DATABASE": "comms"})
