"""Placing the peer hosts on the cluster, and taking them (and their nodes) back."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import ray
from ray.autoscaler.sdk import request_resources

from peerperf.cluster.peerhost_actor import PEER_SLOT, spawn_peer_host
from peerperf.cluster.runtime import awaited
from peerperf.config import RunConfig
from peerperf.sim.host_config import HostConfig, PeerSpec
from peerperf.sim.population import Population, group
from peerperf.sizing.placement_check import NodeLoad, local_cpus, placement_warning

log = logging.getLogger(__name__)

#: How long shutting down a peer host may take before it is killed.
SHUTDOWN_TIMEOUT = 30.0

#: A peer host actor and the peers it runs.
PlacedHost = tuple[Any, list[PeerSpec]]


def spawn_hosts(
    config: RunConfig,
    specs: list[PeerSpec],
    lighthouse_url: str,
    rng: random.Random,
    on_cluster: bool,
    spawn: Callable[[HostConfig, list[PeerSpec]], Any] = spawn_peer_host,
    timer_seed: int | None = None,
) -> list[PlacedHost]:
    """One peer host per `peers_per_actor` peers; on a cluster, ask the autoscaler for all their nodes at once.

    Every host gets the run's `timer_seed`, so the timer phases of all its peers are spread together."""
    hosts = []
    rooms = tuple(dict.fromkeys(spec.room for spec in specs))
    for number, chunk in enumerate(group(specs, config.peers_per_actor)):
        host_config = HostConfig(
            f"host-{number:04d}",
            lighthouse_url,
            config.peer,
            config.stats_interval / 1000,
            seed=rng.randrange(2**32),
            timer_seed=timer_seed,
            stages=config.stage_plan,
            rooms=rooms,
        )
        hosts.append((spawn(host_config, chunk), chunk))
    if on_cluster:  # ask for every peer node at once: one scale-up, not one per actor
        request_resources(bundles=[{PEER_SLOT: float(len(chunk))} for _, chunk in hosts])
    return hosts


async def warn_if_overloaded(
    config: RunConfig, population: Population, on_cluster: bool, show: Callable[[str], None]
) -> None:
    """Before the peers start: warn, in the progress view and the log, when a node gets more peers than the
    calibration says it holds healthy at the run's layer size (on a cluster: the peer nodes up so far)."""
    layer_size = min(population.layer_size or population.peers, population.peers)
    shapes = _node_shapes(config, on_cluster)
    if not shapes:
        log.info("placement not checked: no peer node is up yet (the autoscaler adds them for this run)")
    for peers, cpus in shapes:
        load = NodeLoad(peers, cpus, layer_size, config.peers_per_actor, config.routine, config.peer)
        warning = await asyncio.to_thread(placement_warning, load)
        if warning:
            log.warning("placement: %s", warning)
            show(f"warning: {warning}")


def _node_shapes(config: RunConfig, on_cluster: bool) -> list[tuple[int, int]]:
    """(peers, CPUs) of each kind of node the run's peers land on: this machine, or the peer nodes."""
    if not on_cluster:
        return [(config.peers, local_cpus())]
    shapes = {
        (int(node["Resources"][PEER_SLOT]), int(node["Resources"].get("CPU", 1)))
        for node in ray.nodes()
        if node.get("Alive") and PEER_SLOT in node.get("Resources", {})
    }
    return [(min(slot, config.peers), cpus) for slot, cpus in sorted(shapes)]


def alive_nodes() -> int:
    return sum(1 for node in ray.nodes() if node.get("Alive"))


async def stop_hosts(hosts: list[Any], on_cluster: bool) -> None:
    """Shut every host down (each gets `SHUTDOWN_TIMEOUT`), kill it, and give the peer nodes back."""
    if on_cluster and hosts:
        request_resources(bundles=[])  # let the autoscaler take the peer nodes back
    if not hosts:
        return
    answers = await asyncio.gather(
        *(asyncio.wait_for(awaited(h.shutdown.remote()), SHUTDOWN_TIMEOUT) for h in hosts),
        return_exceptions=True,
    )
    failures = [a for a in answers if isinstance(a, BaseException)]
    if failures:
        log.warning("%d peer host(s) did not shut down cleanly (killed anyway): %r", len(failures), failures[0])
    for host in hosts:
        ray.kill(host)
