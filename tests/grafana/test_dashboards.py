"""The Grafana files: valid, generated from `grafana/generate.py`, and every panel's query answers with data
from a real InfluxDB holding a real run (Grafana itself cannot be installed here)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.metricsdb import InfluxD
from tests.relayedrun import RelayedRun

GRAFANA = REPO_ROOT / "grafana"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted((GRAFANA / "dashboards").glob("*.json"))}


def _targets() -> list[tuple[str, str, str]]:
    return [
        (name, panel["title"], target["query"])
        for name, doc in _dashboards().items()
        for panel in doc["panels"]
        for target in panel["targets"]
    ]


def test_the_checked_in_dashboards_are_what_the_generator_writes() -> None:
    generate = _generator()
    assert set(_dashboards()) == set(generate.DASHBOARDS)
    for name, doc in generate.DASHBOARDS.items():
        assert (GRAFANA / "dashboards" / name).read_text() == generate.rendered(doc), f"run grafana/generate.py: {name}"


def test_dashboards_are_valid_and_use_the_provisioned_datasource() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "peerperf.yaml").read_text())
    [source] = datasources["datasources"]
    assert source["type"] == "influxdb" and source["jsonData"]["dbName"] == "comms"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "peerperf.yaml").read_text())
    assert providers["apiVersion"] == 1 and providers["providers"][0]["type"] == "file"
    uids = set()
    for name, doc in _dashboards().items():
        assert doc["uid"] not in uids and doc["title"], name
        uids.add(doc["uid"])
        [variable] = doc["templating"]["list"]
        assert variable["name"] == "test" and variable["multi"] and variable["datasource"]["uid"] == source["uid"]
        ids = [panel["id"] for panel in doc["panels"]]
        assert len(ids) == len(set(ids)) and doc["panels"], name
        for panel in doc["panels"]:
            assert panel["datasource"]["uid"] == source["uid"] and {"h", "w", "x", "y"} <= set(panel["gridPos"])
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["rawQuery"] and target["datasource"]["uid"] == source["uid"]
                assert "$timeFilter" in target["query"] and "/^$test$/" in target["query"], panel["title"]


def grafana_query(query: str, test_id: str) -> str:
    """The query as Grafana sends it for one selected test, the last 6 hours, 1 s intervals."""
    return (
        query.replace("$test", re.escape(test_id))
        .replace("$timeFilter", "time > now() - 6h")
        .replace("$__interval", "1s")
    )


@pytest.mark.influx
@pytest.mark.parametrize(("dashboard", "panel", "query"), _targets())
def test_every_panel_query_returns_data_from_a_real_run(
    relayed_1x: RelayedRun, influx: InfluxD, dashboard: str, panel: str, query: str
) -> None:
    series = influx.query(grafana_query(query, relayed_1x.test_id))
    values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
    assert values, f"{dashboard} / {panel}: no data"
    assert all(s.get("tags", {}).get("test") == relayed_1x.test_id for s in series)


@pytest.mark.influx
def test_the_test_variable_lists_the_run(relayed_1x: RelayedRun, influx: InfluxD) -> None:
    query = _dashboards()["peerperf-runs.json"]["templating"]["list"][0]["query"]
    assert relayed_1x.test_id in {row["value"] for row in influx.rows(query)}
