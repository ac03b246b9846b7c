"""A flush that fails unexpectedly is reported, counted (`GET /status` `harnessErrors`), keeps its records
for the next flush, and the flusher goes on (issue 13, "nothing silent", "nothing lost")."""

from __future__ import annotations

from typing import Any

import pytest

from peerperf.results.parts import DatapointLog
from tests.peer.conftest import eventually
from tests.results.conftest import Gateway, metrics_body


async def test_a_failed_flush_is_counted_and_loses_nothing(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write = DatapointLog.write
    writes = 0

    def failing_once(self: DatapointLog, points: list[Any]) -> None:
        nonlocal writes
        writes += 1
        if writes == 1:
            raise ValueError("injected: a value the writer cannot take")
        write(self, points)

    monkeypatch.setattr(DatapointLog, "write", failing_once)
    status, _ = await gateway.call("POST", "/test/flushed", json={"started": True})
    assert status == 200
    for n in range(3):
        status, _ = await gateway.call("PUT", f"/test/flushed/peer/p{n}/metrics", json=metrics_body(n))
        assert status == 200
    working = gateway.service._working["flushed"]
    await eventually(lambda: writes >= 2 and not working.datapoints.buffer, "a later flush writes the records")
    status, body = await gateway.call("GET", "/status")
    assert body["harnessErrors"] == 1
    assert "results service: flushing records to disk failed unexpectedly" in caplog.text
    status, document = await gateway.call("PUT", "/test/flushed/finish")
    assert status == 200 and sorted(d["peerId"] for d in document["dataPoints"]) == ["p0", "p1", "p2"]
