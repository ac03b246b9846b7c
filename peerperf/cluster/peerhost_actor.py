"""The peer host as a Ray actor: placed by a `peer_slot` resource, peers bound to the node's address."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ray

from peerperf.cluster.lean_worker import skip_unused_serializers
from peerperf.results.client import HttpResultsClient, ResultsClient
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig, PeerSpec
from peerperf.sim.host_reports import HostProgress, SetupReport

skip_unused_serializers()  # before Ray deserializes this actor's arguments (see lean_worker)

#: Custom resource a peer host asks for, one per simulated peer; cluster nodes advertise capacity.
PEER_SLOT = "peer_slot"
#: CPU share reserved per simulated peer (scheduling hint; peers are I/O bound and share cores).
CPU_PER_PEER = 0.01


class PeerHostWorker:
    """Thin wrapper: fills in where it runs, then delegates to `PeerHost`."""

    def __init__(self, config: HostConfig, specs: list[PeerSpec]) -> None:
        context = ray.get_runtime_context()
        node_ip = ray.util.get_node_ip_address()
        settings = replace(config.peer_settings, host_addresses=(node_ip,))
        self.host = PeerHost(replace(config, node_id=context.get_node_id(), peer_settings=settings), specs)

    async def setup(self) -> SetupReport:
        return await self.host.setup()

    async def run(
        self, results: Any, test_id: str, duration: float, start_timeout: float, results_token: str | None = None
    ) -> int:
        """`results` is the results actor's client, or the URL of an HTTP results server (and its token)."""
        client: ResultsClient = HttpResultsClient(results, token=results_token) if isinstance(results, str) else results
        try:
            return await self.host.run(client, test_id, duration, start_timeout)
        finally:
            await client.close()

    def progress(self) -> HostProgress:
        return self.host.progress()

    def stop(self) -> None:
        self.host.stop()

    async def shutdown(self) -> None:
        await self.host.shutdown()


def spawn_peer_host(config: HostConfig, specs: list[PeerSpec]) -> Any:
    """One host actor for `specs`, asking for a `peer_slot` per peer and spread over nodes."""
    remote_cls = ray.remote(PeerHostWorker)
    return remote_cls.options(
        num_cpus=CPU_PER_PEER * len(specs),
        resources={PEER_SLOT: len(specs)},
        scheduling_strategy="SPREAD",
        max_concurrency=64,
        name=None,
    ).remote(config, specs)
