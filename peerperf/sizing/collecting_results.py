"""A results client that keeps a packed run's datapoints in memory: measuring needs no results service."""

from __future__ import annotations

from typing import Any

from peerperf.errors import PeerperfError
from peerperf.protocol.wallclock import now_ms, now_ms_int
from peerperf.results.model import BatchResult, Submission, TestInfo


class CollectingResults:
    """Starts the test at once and keeps every datapoint with its peer and arrival time."""

    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        return TestInfo(test_id, now_ms_int())

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        arrived = now_ms_int()
        self.points.extend({**s.metrics, "peerId": s.peer_id, "timestamp": arrived} for s in submissions)
        return BatchResult(len(submissions))

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return BatchResult(len(submissions))  # final totals are not what a measurement reads

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        return None

    async def drain(self) -> BatchResult:
        return BatchResult(0)  # nothing is ever queued

    async def server_time_ms(self) -> float:
        return now_ms()

    async def close(self) -> None:
        return None

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        raise PeerperfError("a packed measurement runs its own test")

    start_test = finish_test = get_test = create_test

    async def set_metadata(self, test_id: str, metadata: dict[str, Any]) -> TestInfo:
        raise PeerperfError("a packed measurement keeps no metadata")
