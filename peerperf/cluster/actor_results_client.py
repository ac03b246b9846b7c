"""`ResultsClient` over the results actor: what the orchestrator and the peer hosts call it through.

Its own module, apart from `results_actor`: a peer host unpickles this client and must not load the
results service's dataframe stack (pyarrow, pandas) to do so.
"""

from __future__ import annotations

from typing import Any

from peerperf.results.model import BatchResult, Submission, TestInfo


class ActorResultsClient:
    """`ResultsClient` over the results actor (picklable: it holds only the actor handle)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        return await self.actor.create_test.remote(test_id, started)

    async def start_test(self, test_id: str) -> TestInfo:
        return await self.actor.start_test.remote(test_id)

    async def finish_test(self, test_id: str) -> TestInfo:
        return await self.actor.finish_test.remote(test_id)

    async def get_test(self, test_id: str) -> TestInfo:
        return await self.actor.get_test.remote(test_id)

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        return await self.actor.wait_started.remote(test_id, timeout)

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return await self.actor.submit_batch.remote(test_id, submissions)

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        return await self.actor.submit_results.remote(test_id, submissions)

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        await self.actor.submit_topology.remote(test_id, topology)

    async def set_metadata(self, test_id: str, metadata: dict[str, Any]) -> TestInfo:
        return await self.actor.set_metadata.remote(test_id, metadata)

    async def server_time_ms(self) -> float:
        return await self.actor.server_time_ms.remote()

    async def drain(self) -> BatchResult:
        return BatchResult(0)  # an actor call either lands or fails: nothing is ever queued

    async def close(self) -> None:
        return None
