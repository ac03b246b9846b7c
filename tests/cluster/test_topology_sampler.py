"""The topology sampler copies a real lighthouse's `/layers/{l}/topology` into a real results service."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from peerperf.cluster.topology_sampler import TopologySampler
from peerperf.errors import RequestError
from peerperf.httpserver import serving
from peerperf.results import ResultsService, ResultsSettings, create_app
from peerperf.results.client import HttpResultsClient
from peerperf.results.model import TestInfo
from peerperf.run_state import RunOutcome
from tests.lighthouse.conftest import LighthouseUnderTest, lighthouse, start_lighthouse  # noqa: F401
from tests.peer.conftest import eventually, eventually_async

WAIT = 20.0


async def test_samples_each_layer_while_the_test_runs(lighthouse: LighthouseUnderTest, tmp_path: Path) -> None:  # noqa: F811
    alice, bob = await lighthouse.connect("alice"), await lighthouse.connect("bob")
    await lighthouse.join(alice)
    await lighthouse.join(bob)
    await alice.send({"type": "HEARTBEAT", "src": "alice", "payload": {"connectedPeerIds": ["bob"]}})
    await eventually_async(lambda: _reported(lighthouse), "the lighthouse stored alice's heartbeat")
    service = ResultsService(ResultsSettings(location=str(tmp_path)))
    async with serving(create_app(service), "127.0.0.1", 0) as port:
        client = HttpResultsClient(f"http://127.0.0.1:{port}", poll_interval=0.05)
        await client.create_test("topo")
        sampler = TopologySampler(lighthouse.base, ["blue", "empty"], client, "topo", interval=0.1)
        task = asyncio.create_task(sampler.run())
        try:
            await asyncio.sleep(0.3)
            assert sampler.samples == 0  # nothing before the start
            await client.start_test("topo")
            deadline = time.monotonic() + WAIT
            while sampler.samples < 3:
                assert time.monotonic() < deadline and not task.done(), "the sampler stopped sampling"
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await client.close()
        await service.finish_test("topo")
    async with lighthouse.http.get(f"{lighthouse.base}/layers/blue/topology") as resp:
        current = await resp.json()
    document = await _document(service)
    assert len(document["topologyDataPoints"]) >= 3  # one per sample of "blue"; "empty" does not exist
    assert document["topologyDataPoints"][-1]["topology"] == current
    by_id = {entry["id"]: entry for entry in current}
    assert by_id["alice"]["connectedPeerIds"] == ["bob"] and by_id["alice"]["layer"] == "blue"


async def _reported(under_test: LighthouseUnderTest) -> bool:
    async with under_test.http.get(f"{under_test.base}/layers/blue/topology") as resp:
        return any(entry["connectedPeerIds"] == ["bob"] for entry in await resp.json())


async def _document(service: ResultsService) -> dict[str, Any]:
    text = "".join([chunk async for chunk in service.stream_json("topo")])
    document: dict[str, Any] = json.loads(text)
    return document


class FlakyResults:
    """A started test whose first topology submission fails unexpectedly and the second as an outage does."""

    def __init__(self) -> None:
        self.stored: list[Any] = []
        self.calls = 0

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        return TestInfo(test_id, started=1)

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            raise KeyError("injected: a bug in the sampler's path")
        if self.calls == 2:
            raise RequestError(503, "results-unreachable", "injected: the results service is away")
        self.stored.append(topology)


async def test_what_the_sampler_stored_skipped_and_failed_on_is_reported(
    lighthouse: LighthouseUnderTest,  # noqa: F811
) -> None:
    """Before, the unexpected failures were counted by the sampler's supervisor and the count went nowhere."""
    alice = await lighthouse.connect("alice")
    await lighthouse.join(alice)
    results = FlakyResults()
    sampler = TopologySampler(lighthouse.base, ["blue"], results, "topo", interval=0.05)  # type: ignore[arg-type]
    task = asyncio.create_task(sampler.run())
    try:
        await eventually(lambda: len(results.stored) >= 2, "the sampler goes on after both failures")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    outcome = RunOutcome(test_id="topo")
    metadata = sampler.report(outcome)
    assert metadata == {"topologySamples": len(results.stored), "topologySkipped": 1, "topologyErrors": 1}
    assert (outcome.topology_samples, outcome.topology_skipped, outcome.topology_errors) == (len(results.stored), 1, 1)
