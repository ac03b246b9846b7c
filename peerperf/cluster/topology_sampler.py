"""Samples the lighthouse's view of the mesh during a run and stores it with the test.

Every interval, each layer's `GET /layers/{layer}/topology` (every peer with its
`connectedPeerIds`, as peers report them in heartbeats) becomes one `topologyDataPoints` entry,
so the analysis can draw the mesh over time. One entry per layer keeps each body small (the
original's server refused bodies over 100 kB). What it took, skipped and hit unexpectedly goes into
the test's metadata and the run's outcome (`report`).
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from peerperf.errors import PeerperfError
from peerperf.results.client import ResultsClient
from peerperf.run_state import RunOutcome
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

#: What a sample may run into without it being a harness bug: the lighthouse or results service unreachable.
SAMPLING_FAILURES = (aiohttp.ClientError, OSError, TimeoutError, ValueError, PeerperfError)


class TopologySampler:
    """Copies the lighthouse's topology of `layers` into test `test_id` every `interval` s."""

    def __init__(
        self, lighthouse_url: str, layers: list[str], results: ResultsClient, test_id: str, interval: float
    ) -> None:
        self.lighthouse_url = lighthouse_url.rstrip("/")
        self.layers = layers
        self.results = results
        self.test_id = test_id
        self.interval = interval
        self.samples = 0
        #: Samples not taken because the lighthouse or the results service could not be reached (logged).
        self.skipped = 0
        #: A sample that fails unexpectedly is logged and counted (`errors`), and the next one is tried.
        self.supervisor = Supervisor("topology sampler", logger=log)

    async def run(self) -> None:
        """Wait for the test to start, then sample until cancelled; failures are logged, not fatal."""
        await self.results.wait_started(self.test_id)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=max(self.interval, 5.0))) as http:
            sample_all = functools.partial(self._sample_all, http)
            await sample_all()
            await self.supervisor.every(self.interval, sample_all, "sampling the topology")

    async def _sample_all(self, http: aiohttp.ClientSession) -> None:
        for layer in self.layers:
            await self.supervisor.call(functools.partial(self._sample, http, layer), f"sampling layer {layer}")

    async def _sample(self, http: aiohttp.ClientSession, layer: str) -> None:
        try:
            async with http.get(f"{self.lighthouse_url}/layers/{quote(layer, safe='')}/topology") as resp:
                if resp.status == 404:
                    return  # no peer in the layer (yet)
                resp.raise_for_status()
                topology = await resp.json()
            await self.results.submit_topology(self.test_id, topology)
        except SAMPLING_FAILURES as exc:
            self.skipped += 1
            log.warning("topology of layer %s not sampled (%d skipped so far): %s", layer, self.skipped, exc)
            return
        self.samples += 1

    @property
    def errors(self) -> int:
        """Unexpected failures so far (harness errors: the log has each with its traceback)."""
        return self.supervisor.errors

    def report(self, outcome: RunOutcome) -> dict[str, Any]:
        """Put the counts in `outcome` and return them as the test's metadata entries."""
        outcome.topology_samples, outcome.topology_skipped, outcome.topology_errors = (
            self.samples,
            self.skipped,
            self.errors,
        )
        return {"topologySamples": self.samples, "topologySkipped": self.skipped, "topologyErrors": self.errors}
