"""Real metrics databases on loopback for the relay tests: Debian's InfluxDB 1.x and VictoriaMetrics.

Each daemon runs from a temp folder on free 127.0.0.1 ports and is killed afterwards; InfluxDB's usage
reporting is off (`reporting-disabled`: it would phone home). `scripts/test` apt-installs both packages.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0
#: The configuration cluster.yaml's head uses: tests start InfluxDB from it, with their own ports and folder.
INFLUXDB_CONF = Path(__file__).resolve().parent.parent / "deploy" / "influxdb.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed for the InfluxDB relay tests (scripts/test apt-installs it)"
    return path


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the daemon exited: {log.read_text()[-2000:]}"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.1)  # a bounded poll for a port to answer, not a stand-in for an event
    raise AssertionError(f"{url} did not answer within {START_TIMEOUT} s: {log.read_text()[-2000:]}")


@dataclass
class InfluxD:
    """An InfluxDB 1.x daemon with database `comms`."""

    url: str
    proc: subprocess.Popen[bytes]
    database: str = "comms"

    def query(self, influxql: str) -> list[dict[str, Any]]:
        """The series of an InfluxQL query (a list of {name, tags?, columns, values}); raises on an error."""
        params = urllib.parse.urlencode({"db": self.database, "q": influxql, "epoch": "ms"})
        with urllib.request.urlopen(f"{self.url}/query?{params}", timeout=30) as resp:
            answer = json.loads(resp.read())
        result = answer["results"][0]
        assert "error" not in result, f"{influxql}: {result['error']}"
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def rows(self, influxql: str) -> list[dict[str, Any]]:
        """The query's rows as dicts (tags of grouped series included)."""
        return [
            {**serie.get("tags", {}), **dict(zip(serie["columns"], values, strict=True))}
            for serie in self.query(influxql)
            for values in serie.get("values", [])
        ]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@contextlib.contextmanager
def influxd(folder: Path, create_database: bool = True) -> Iterator[InfluxD]:
    folder.mkdir(parents=True, exist_ok=True)
    http, rpc = free_port(), free_port()
    config = folder / "influxdb.conf"
    config.write_text(
        INFLUXDB_CONF.read_text()
        .replace('"127.0.0.1:8086"', f'"127.0.0.1:{http}"')
        .replace('"127.0.0.1:8088"', f'"127.0.0.1:{rpc}"')
        .replace('"/var/lib/influxdb/', f'"{folder}/')
    )
    log = folder / "influxd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([_binary("influxd"), "-config", str(config)], stdout=out, stderr=subprocess.STDOUT)
    daemon = InfluxD(f"http://127.0.0.1:{http}", proc)
    try:
        _wait_http(f"{daemon.url}/ping", proc, log)
        if create_database:
            data = urllib.parse.urlencode({"q": "CREATE DATABASE comms"}).encode()
            urllib.request.urlopen(f"{daemon.url}/query", data=data, timeout=10).close()
        yield daemon
    finally:
        daemon.stop()


@dataclass
class VictoriaMetrics:
    """A VictoriaMetrics daemon: InfluxDB line protocol in (`/api/v2/write`), its export API out."""

    url: str
    proc: subprocess.Popen[bytes]

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every series matching `match` with its values and timestamps (JSON lines of `/api/v1/export`)."""
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).close()
        params = urllib.parse.urlencode({"match[]": match})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{params}", timeout=30) as resp:
            return [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]


@contextlib.contextmanager
def victoria_metrics(folder: Path) -> Iterator[VictoriaMetrics]:
    port = free_port()
    log = folder / "victoria-metrics.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                _binary("victoria-metrics"),
                f"-httpListenAddr=127.0.0.1:{port}",
                f"-storageDataPath={folder}/vm-data",
                "-retentionPeriod=100y",
                "-search.disableCache",
                "-search.latencyOffset=0s",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_http(f"http://127.0.0.1:{port}/health", proc, log)
        yield VictoriaMetrics(f"http://127.0.0.1:{port}", proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
