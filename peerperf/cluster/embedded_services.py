"""The run's lighthouse and results service: embedded as Ray actors on the driver's node, or external URLs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from peerperf.cluster.actor_results_client import ActorResultsClient
from peerperf.cluster.lighthouse_actor import LighthouseActor
from peerperf.cluster.results_actor import spawn_results_actor
from peerperf.cluster.runtime import awaited
from peerperf.config import RunConfig
from peerperf.lighthouse import LighthouseSettings
from peerperf.results import ResultsSettings
from peerperf.results.client import HttpResultsClient, ResultsClient
from peerperf.results.influx.relay_stats import RelayStats
from peerperf.run_state import RunOutcome
from peerperf.settings import resolve

log = logging.getLogger(__name__)

#: How long stopping a service may take before it is killed.
SHUTDOWN_TIMEOUT = 30.0


@dataclass
class RunServices:
    """Where the run's services are, and the actors to stop at the end."""

    lighthouse_url: str
    results: ResultsClient
    results_target: Any
    results_url: str | None
    actors: list[Any] = field(default_factory=list)
    #: The embedded results actor (None with an external results server).
    results_actor: Any = None
    #: The results gateway's live page, and how to reach it from elsewhere (a cluster's port-forward).
    live_url: str = ""
    live_hint: str = ""


async def start_services(
    config: RunConfig, outcome: RunOutcome, show: Callable[[str], None], on_cluster: bool
) -> RunServices:
    """Start what the run embeds (on the driver's node) and note the URLs in `outcome`.

    Both actors are created before either is awaited: their worker processes start side by side."""
    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    embedded = [
        name
        for name, url in (("the lighthouse", config.lighthouse_url), ("the results service", config.results_url))
        if not url
    ]
    if embedded:
        show("starting " + " and ".join(embedded))
    lighthouse: Any = None if config.lighthouse_url else _spawn_lighthouse(config, here)
    results_actor: Any = None
    if not config.results_url:
        results_settings = ResultsSettings(location=str(config.output_folder), token=config.results_token or "")
        results_actor = spawn_results_actor(results_settings, config.influx, scheduling_strategy=here)
    actors = [actor for actor in (lighthouse, results_actor) if actor is not None]
    try:
        lighthouse_url: str = config.lighthouse_url or await lighthouse.start.remote()
        outcome.lighthouse_url = lighthouse_url
        if config.results_url:
            http = HttpResultsClient(config.results_url, token=config.results_token)
            outcome.results_url = config.results_url
            return RunServices(lighthouse_url, http, config.results_url, config.results_url, actors)
        host = ray.util.get_node_ip_address()
        port = await results_actor.start.remote(host, config.results_port)
    except BaseException:  # one failed to start: the other is not left running (on a cluster, it would be)
        for actor in actors:
            ray.kill(actor)
        raise
    client = ActorResultsClient(results_actor)
    outcome.results_url = f"http://{host}:{port}"
    hint = f"from your machine: ray attach cluster.yaml -p {port}, then http://127.0.0.1:{port}/"
    return RunServices(
        lighthouse_url,
        client,
        client,
        outcome.results_url,
        actors,
        results_actor,
        live_url=f"{outcome.results_url}/",
        live_hint=hint if on_cluster else "",
    )


def _spawn_lighthouse(config: RunConfig, here: NodeAffinitySchedulingStrategy) -> Any:
    """The embedded lighthouse's actor, open to anyone (the peers are the run's own), on `here`."""
    settings = resolve(
        LighthouseSettings,
        environ={},
        no_auth=True,
        host="",
        port=config.lighthouse_port,
        max_per_layer=config.max_per_layer,
    )
    lighthouse_actor: Any = ray.remote(LighthouseActor)
    return lighthouse_actor.options(num_cpus=0, scheduling_strategy=here).remote(settings)


async def relay_stats(services: RunServices, drain_timeout: float) -> RelayStats | None:
    """The embedded results service's relay counts (None without a relay or with an external server)."""
    if services.results_actor is None:
        return None
    try:
        stats: RelayStats | None = await asyncio.wait_for(
            awaited(services.results_actor.relay_stats.remote(drain_timeout)), drain_timeout + 5.0
        )
    except (TimeoutError, ray.exceptions.RayError) as exc:
        log.warning("the InfluxDB relay's counts are not known: %s", exc)
        return None
    return stats


async def stop_services(services: RunServices) -> None:
    """Close the results client, then stop and kill every service actor (each gets `SHUTDOWN_TIMEOUT`)."""
    await services.results.close()
    for actor in services.actors:
        try:
            await asyncio.wait_for(awaited(actor.stop.remote()), SHUTDOWN_TIMEOUT)
        except (TimeoutError, ray.exceptions.RayError) as exc:
            log.warning("a service did not stop cleanly: %s", exc)
        ray.kill(actor)
