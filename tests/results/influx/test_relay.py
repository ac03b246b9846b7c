"""The relay against real servers: both write paths, batching, and counting what it cannot write."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from peerperf.config import recorded_settings
from peerperf.errors import ConfigError
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.assembly import ResultsStack
from peerperf.results.influx.relay import InfluxRelay
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.influx.writers import V1Writer, WriteFailed
from peerperf.results.model import DataPoint, Submission
from peerperf.results.settings import ResultsSettings
from peerperf.run import parse as parse_run
from tests.metricsdb import InfluxD, VictoriaMetrics, free_port
from tests.results.conftest import metrics_body


def _points(n: int, start_ms: int = 1_700_000_000_000) -> list[DataPoint]:
    return [DataPoint(f"peer-{i % 5}", start_ms + i, validate_metrics(metrics_body(i, hostId="h"))) for i in range(n)]


async def _until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.mark.influx
async def test_the_results_service_relays_accepted_datapoints_and_events_to_influxdb_1x(
    influx: InfluxD, tmp_path: Path
) -> None:
    settings = InfluxSettings(influx_url=influx.url, influx_database="comms", influx_batch_size=7)
    stack = ResultsStack.build(ResultsSettings(location=str(tmp_path)), settings)
    stack.start()
    service = stack.service
    await service.create_test("relay-1x")
    await service.start_test("relay-1x")
    result = await service.submit_batch(
        "relay-1x", [Submission(f"peer-{i}", metrics_body(i, room="r 1")) for i in range(20)] + [Submission("p", {})]
    )
    assert result.accepted == 20 and len(result.rejected) == 1  # a refused datapoint is not relayed
    await service.set_metadata("relay-1x", {"lostPeers": {"peer-3": "host failed", "peer-4": "host failed"}})
    await service.finish_test("relay-1x")
    stats = await stack.close()
    assert stats is not None and stats.written == 23 and stats.not_relayed == 0  # 20 datapoints and 3 events
    rows = influx.rows("SELECT sent, knownPeersCount, peer, room FROM peer_metrics WHERE test = 'relay-1x'")
    assert sorted((row["peer"], row["sent"]) for row in rows) == sorted((f"peer-{i}", i) for i in range(20))
    assert {row["room"] for row in rows} == {"r 1"}
    events = influx.rows("SELECT count, peers FROM run_events WHERE test = 'relay-1x' GROUP BY event")
    assert sorted(row["event"] for row in events) == ["finish", "peers_lost", "start"]
    lost = next(row for row in events if row["event"] == "peers_lost")
    assert lost["count"] == 2 and lost["peers"] == "peer-3,peer-4"


@pytest.mark.influx
async def test_the_v2_write_api_path_reaches_a_server_that_speaks_it(victoria: VictoriaMetrics) -> None:
    relay = InfluxRelay(InfluxSettings(influx_url=victoria.url, influx_bucket="comms", influx_batch_size=4))
    relay.start()
    relay.datapoints("relay-v2", _points(10))
    stats = await relay.close()
    assert stats.written == 10 and stats.not_relayed == 0
    series = victoria.export('{__name__="peer_metrics_sent", test="relay-v2"}')
    values = sorted(v for s in series for v in s["values"])
    assert values == list(range(10))
    assert {s["metric"]["peer"] for s in series} == {f"peer-{i}" for i in range(5)}


async def test_an_unreachable_influxdb_costs_the_test_nothing_and_every_lost_point_is_counted() -> None:
    settings = InfluxSettings(
        influx_url=f"http://127.0.0.1:{free_port()}",
        influx_database="comms",
        influx_batch_size=5,
        influx_max_buffer=20,
        influx_retries=2,
        influx_retry_backoff=0.01,
        influx_flush_interval=0.05,
    )
    relay = InfluxRelay(settings)
    relay.start()
    began = time.monotonic()
    relay.datapoints("down", _points(50))  # more than the buffer holds: the oldest 30 are dropped at once
    assert time.monotonic() - began < 1.0  # accepting never waits for InfluxDB
    assert relay.stats().dropped == 30
    await _until(lambda: relay.stats().pending == 0)
    stats = await relay.close()
    assert stats.written == 0 and stats.dropped == 50 and stats.not_relayed == 50
    assert "ClientConnectorError" in stats.last_error or "Connect" in stats.last_error


@pytest.mark.influx
async def test_a_write_that_fails_then_succeeds_counts_as_delayed(influx: InfluxD) -> None:
    failures = 2

    class Flaky:
        """The real 1.x writer, refusing its first two calls as a restarting server would."""

        def __init__(self) -> None:
            self.real = V1Writer(settings)

        async def write(self, lines: list[str]) -> None:
            nonlocal failures
            if failures:
                failures -= 1
                raise WriteFailed("503 restarting")
            await self.real.write(lines)

        async def close(self) -> None:
            await self.real.close()

    settings = InfluxSettings(
        influx_url=influx.url, influx_database="comms", influx_retries=3, influx_retry_backoff=0.01
    )
    relay = InfluxRelay(settings, Flaky())
    relay.start()
    relay.datapoints("flaky", _points(6))
    stats = await relay.close()
    assert (stats.written, stats.delayed, stats.not_relayed) == (6, 6, 0)
    assert len(influx.rows("SELECT sent FROM peer_metrics WHERE test = 'flaky'")) == 6


@pytest.mark.parametrize("bad", [{"influx_url": "influx:8086"}, {"influx_batch_size": 0}, {"influx_max_buffer": 1}])
def test_bad_relay_settings_are_refused_with_a_reason(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="--influx"):
        InfluxSettings(**bad)  # type: ignore[arg-type]


def test_the_relay_is_off_unless_configured_and_its_token_is_never_recorded() -> None:
    assert parse_run([])[0].influx.enabled is False
    config, _, _ = parse_run(["--influx-url", "http://127.0.0.1:8086", "--influx-batch-size", "100"])
    assert config.influx.enabled and config.influx.influx_batch_size == 100 and config.influx.influx_bucket == "comms"
    recorded = recorded_settings(replace(config, influx=replace(config.influx, influx_token="s3cret")))
    assert recorded["influx_url"] == "http://127.0.0.1:8086" and "influx_token" not in recorded
    assert "s3cret" not in json.dumps(recorded)


@pytest.mark.influx
async def test_the_standalone_results_service_relays_with_its_own_flags(influx: InfluxD, tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "peerperf.results",
        "--port",
        "0",
        "--location",
        str(tmp_path),
        "--influx-url",
        influx.url,
        "--influx-database",
        "comms",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not lines or "listening on port" not in lines[-1]:
            lines.append((await asyncio.wait_for(proc.stdout.readline(), 60)).decode())
            assert lines[-1], "".join(lines)
        assert any("InfluxDB relay: " + influx.url in line for line in lines), lines
        port = re.search(r"port (\d+)", lines[-1])
        assert port, lines[-1]
        base = f"http://127.0.0.1:{port[1]}"
        async with aiohttp.ClientSession() as http:
            await http.post(f"{base}/test/cli-relay", json={"started": True})
            async with http.put(f"{base}/test/cli-relay/peer/peer-a/metrics", json=metrics_body(9)) as resp:
                assert resp.status == 200
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == 0
    rows = influx.rows("SELECT sent FROM peer_metrics WHERE test = 'cli-relay'")  # written at shutdown at the latest
    assert [(row["sent"]) for row in rows] == [9]


async def test_an_unexpected_failure_in_the_relay_is_logged_counted_and_the_relay_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before, anything but `WriteFailed` ended the writer task: nothing more was relayed, and nobody knew
    until the run's end."""

    class Broken:
        """Stores lines, but its first call fails as a bug would."""

        def __init__(self) -> None:
            self.lines: list[str] = []
            self.calls = 0

        async def write(self, lines: list[str]) -> None:
            self.calls += 1
            if self.calls == 1:
                raise KeyError("injected: a bug in the write path")
            self.lines += lines

        async def close(self) -> None:
            pass

    writer = Broken()
    settings = InfluxSettings(influx_url="http://127.0.0.1:1", influx_database="comms", influx_batch_size=5)
    relay = InfluxRelay(replace(settings, influx_flush_interval=0.05), writer)
    relay.start()
    relay.datapoints("broken", _points(5))  # one batch: the one the failure loses
    await _until(lambda: relay.stats().errors == 1)
    relay.datapoints("broken", _points(3))
    await _until(lambda: len(writer.lines) == 3)  # the loop went on
    stats = await relay.close()
    assert (stats.written, stats.dropped, stats.errors, stats.not_relayed) == (3, 5, 1, 5)
    assert relay.supervisor.errors == 1 and "injected" in stats.last_error
    assert "InfluxDB relay: relaying points to InfluxDB failed unexpectedly" in caplog.text


def test_the_results_service_counts_its_relays_failures_in_its_harness_errors(tmp_path: Path) -> None:
    settings = InfluxSettings(influx_url="http://127.0.0.1:1", influx_database="comms")
    stack = ResultsStack.build(ResultsSettings(location=str(tmp_path)), settings)
    assert stack.relay is not None and stack.relay.supervisor is stack.service.supervisor
    assert stack.relay in stack.service.sinks
