"""Real InfluxDB 1.x and VictoriaMetrics daemons on loopback, one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.metricsdb import InfluxD, VictoriaMetrics, influxd, victoria_metrics


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxD]:
    with influxd(tmp_path_factory.mktemp("influxd")) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    with victoria_metrics(tmp_path_factory.mktemp("victoria")) as daemon:
        yield daemon
