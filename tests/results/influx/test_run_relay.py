"""Real runs relaying to real servers: what InfluxDB (and a v2-API server) holds matches the Parquet record."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from peerperf.analysis.results_files import load_datapoints
from peerperf.protocol.histogram import Histogram
from tests.metricsdb import InfluxD, VictoriaMetrics, influxd
from tests.relayedrun import COMPARED, RUN_ARGS, RelayedRun, run_cli
from tests.runcli import Run, results_document

pytestmark = pytest.mark.influx


def _histogram_count(value: Any) -> int:
    if value is None or (not isinstance(value, list) and pd.isna(value)):
        return 0
    return Histogram.decode([int(v) for v in value]).total


def expected_rows(run: RelayedRun) -> dict[tuple[str, int], dict[str, float]]:
    """Per (peer, timestamp ms): the compared fields from the Parquet record."""
    out = {}
    for row in run.parquet.to_dict("records"):
        values = {name: float(row[name]) for name in COMPARED}
        values["latencyPositionMs_count"] = float(_histogram_count(row.get("latencyPositionMs")))
        out[(row["peerId"], int(row["timestamp"]))] = values
    return out


def test_every_datapoint_of_a_real_run_reached_influxdb_1x_with_its_values(
    relayed_1x: RelayedRun, influx: InfluxD
) -> None:
    run = relayed_1x
    assert re.search(r"live page: http://127\.0\.0\.1:\d+/", run.output), run.output
    expected = expected_rows(run)
    assert len(expected) >= 3 * 6  # 3 peers, about 8 one-second windows each
    match = re.search(r"InfluxDB relay to .*?: (\d+) points written, (\d+) delayed, (\d+) not relayed", run.output)
    assert match, run.output
    # Every datapoint plus the start and finish events, nothing lost.
    assert (int(match[1]), int(match[3])) == (len(expected) + 2, 0)
    fields = ", ".join(f'"{name}"' for name in (*COMPARED, "latencyPositionMs_count"))
    rows = influx.rows(f"SELECT {fields}, peer, host, layer, routine FROM peer_metrics WHERE test = '{run.test_id}'")
    got = {
        (row["peer"], int(row["time"])): {k: float(row[k] or 0) for k in (*COMPARED, "latencyPositionMs_count")}
        for row in rows
    }
    assert len(rows) == len(expected)
    assert got == expected
    assert {row["layer"] for row in rows} == {"blue"} and {row["routine"] for row in rows} == {"default"}
    assert {row["host"] for row in rows} == set(run.parquet["hostId"])
    counts = influx.rows(f"SELECT count(sent) FROM peer_metrics WHERE test = '{run.test_id}' GROUP BY peer")
    assert {row["peer"]: row["count"] for row in counts} == run.parquet.groupby("peerId").size().to_dict()
    events = influx.rows(f"SELECT count FROM run_events WHERE test = '{run.test_id}' GROUP BY event")
    assert sorted(row["event"] for row in events) == ["finish", "start"]


def test_a_real_run_through_the_v2_write_api_matches_the_parquet_record(
    victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    run = run_cli(tmp_path, {"INFLUX_URL": victoria.url, "INFLUX_BUCKET": "comms", "INFLUX_ORG": "peerperf"})
    assert "(v2 write API)" in run.output and " 0 not relayed" in run.output, run.output
    expected = expected_rows(run)
    got: dict[tuple[str, int], dict[str, float]] = {}
    for name in (*COMPARED, "latencyPositionMs_count"):
        for series in victoria.export(f'{{__name__="peer_metrics_{name}", test="{run.test_id}"}}'):
            peer = series["metric"]["peer"]
            for value, at in zip(series["values"], series["timestamps"], strict=True):
                got.setdefault((peer, at), {})[name] = float(value)
    for values in got.values():
        values.setdefault("latencyPositionMs_count", 0.0)  # a window without position messages has no field
    assert got.keys() == expected.keys()
    for key, values in expected.items():  # VictoriaMetrics keeps 12 significant digits of a float
        assert got[key] == pytest.approx(values, rel=1e-10), key


async def test_influxdb_stopped_mid_run_costs_the_run_nothing_and_the_summary_counts_the_loss(
    tmp_path: Path,
) -> None:
    with influxd(tmp_path / "db") as daemon:
        run = await Run.start(
            *RUN_ARGS,
            "--output",
            str(tmp_path / "results"),
            "--influx-retries",
            "1",
            "--influx-retry-backoff",
            "0.2",
            env={"INFLUX_URL": daemon.url, "INFLUX_DATABASE": "comms"},
        )
        await run.until("[running]")
        deadline = time.monotonic() + 60
        while not daemon.rows("SELECT count(sent) FROM peer_metrics"):  # bounded poll: some points got there
            assert time.monotonic() < deadline, "no point reached InfluxDB"
            await asyncio.sleep(0.2)
        relayed_before = daemon.rows("SELECT count(sent) FROM peer_metrics")[0]["count"]
        daemon.stop()
        code = await run.finish()
    assert code == 0, run.output
    document = results_document(tmp_path / "results")
    parquet = load_datapoints(tmp_path / "results" / f"{document['id']}.parquet")
    assert len(parquet) == len(document["dataPoints"]) >= 3 * 6  # the record is complete
    match = re.search(r"InfluxDB relay to .*?: (\d+) points written, (\d+) delayed, (\d+) not relayed", run.output)
    assert match, run.output
    written, not_relayed = int(match[1]), int(match[3])
    assert written >= relayed_before and not_relayed > 0
    assert written + not_relayed == len(parquet) + 2  # every datapoint and both events are accounted for
