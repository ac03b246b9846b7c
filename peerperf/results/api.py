"""The results API, declared once: every operation a run uses, with the one name each layer gives it.

`ResultsService` implements it; the Ray actor (`peerperf.cluster.results_actor`) and the actor client
forward each operation under the same name (`Forwarding`); `HttpResultsClient`
speaks it over the original's routes, which the gateway serves with handlers named after the
operations. What only the server has stays off the API: the one-record forms of the two submit
operations that the gateway answers each request with (`submit_one`, `submit_results_one`),
flushing, and streaming a test as the original's JSON (`stream_json`). A peer host imports this
module: it needs only the data model, never pyarrow.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

from peerperf.results.model import BatchResult, Submission, TestInfo


class ResultsApi(Protocol):
    """A results service's operations; errors are `RequestError`s with the gateway's HTTP status."""

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        """A new test (a random id when none is given); 409 when the id is taken."""
        ...

    async def get_test(self, test_id: str) -> TestInfo:
        """The test's state; 404 when there is no such test."""
        ...

    async def start_test(self, test_id: str) -> TestInfo:
        """Start the test; starting a started test changes nothing, a finished one is 409."""
        ...

    async def set_metadata(self, test_id: str, metadata: dict[str, Any]) -> TestInfo:
        """Merge keys into the test's metadata (until it finishes)."""
        ...

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        """Return once the test has started; `TimeoutError` after `timeout` s."""
        ...

    async def finish_test(self, test_id: str) -> TestInfo:
        """Finish an ongoing test and write its result files."""
        ...

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """Datapoints of an ongoing test (over HTTP one request each); refused entries are reported, not fatal."""
        ...

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """Peers' final results (`results[peerId]`, a later one replaces it); `Submission.metrics` holds the body."""
        ...

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        """A topology snapshot of an ongoing test (`topologyDataPoints`)."""
        ...

    async def server_time_ms(self) -> float:
        """The results server's wall clock in ms, for clients estimating their clock offset."""
        ...


#: Every operation of `ResultsApi`, in declaration order.
OPERATIONS: tuple[str, ...] = tuple(
    name for name, member in vars(ResultsApi).items() if inspect.iscoroutinefunction(member)
)


class Forwarding(ResultsApi):
    """The API carried elsewhere unchanged (the actor to its service, the actor client to the actor):
    each operation hands its arguments, under its own name, to `forward`. Subclassing the Protocol
    makes mypy check every signature here against the declaration."""

    async def forward(self, operation: str, *args: Any) -> Any:
        raise NotImplementedError

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        return await self.forward("create_test", test_id, started)

    async def get_test(self, test_id: str) -> TestInfo:
        return await self.forward("get_test", test_id)

    async def start_test(self, test_id: str) -> TestInfo:
        return await self.forward("start_test", test_id)

    async def set_metadata(self, test_id: str, metadata: dict[str, Any]) -> TestInfo:
        return await self.forward("set_metadata", test_id, metadata)

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        return await self.forward("wait_started", test_id, timeout)

    async def finish_test(self, test_id: str) -> TestInfo:
        return await self.forward("finish_test", test_id)

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return await self.forward("submit_batch", test_id, submissions)

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return await self.forward("submit_results", test_id, submissions)

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        await self.forward("submit_topology", test_id, topology)

    async def server_time_ms(self) -> float:
        return float(await self.forward("server_time_ms"))
