"""A real VictoriaMetrics (it speaks InfluxDB's v2 write protocol) on loopback; InfluxDB 1.x is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.metricsdb import VictoriaMetrics, victoria_metrics


@pytest.fixture(scope="module")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    with victoria_metrics(tmp_path_factory.mktemp("victoria")) as daemon:
        yield daemon
