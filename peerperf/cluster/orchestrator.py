"""One whole test run, driven from the Ray driver.

Start the services (unless external URLs are given), create or join the test, place the peer hosts,
wait until every peer has joined (a barrier with a deadline that names who is missing), start the
test, watch progress, finish, and always clean up what was started.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import ray
from ray.autoscaler.sdk import request_resources
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from peerperf import __version__
from peerperf.cluster import runtime
from peerperf.cluster.host_restarts import HostRestarts
from peerperf.cluster.peerhost_actor import PEER_SLOT
from peerperf.cluster.results_actor import spawn_results_actor
from peerperf.cluster.services import ActorResultsClient, LighthouseService
from peerperf.cluster.topology_sampler import TopologySampler
from peerperf.config import RunConfig, recorded_settings
from peerperf.errors import ConfigError, PeerperfError
from peerperf.lighthouse import LighthouseSettings
from peerperf.results import ResultsSettings
from peerperf.results.client import HttpResultsClient, ResultsClient
from peerperf.results.download import download_test, wait_finished
from peerperf.results.influx.stats import RelayStats
from peerperf.settings import resolve
from peerperf.sim.host import HostConfig, HostProgress, PeerSpec, SetupReport
from peerperf.sim.impairment_profiles import ImpairmentPlan, describe
from peerperf.sim.population import Population, group, plan_peers
from peerperf.sim.routines import parse_mix

log = logging.getLogger(__name__)

#: How long shutting down hosts and services may take before they are killed.
SHUTDOWN_TIMEOUT = 30.0
#: After the finish, how long the InfluxDB relay may take to write what is pending before the summary.
RELAY_DRAIN_TIMEOUT = 10.0


@dataclass(frozen=True)
class RunSnapshot:
    """What the live view shows, refreshed about once a second."""

    phase: str
    peers: int
    ready: int
    failed: int
    nodes: int
    elapsed: float
    duration: float
    originated_per_second: float = 0.0
    received_per_second: float = 0.0
    connections_mean: float = 0.0
    connections_min: int = 0
    tick_lag_p99_ms: float = 0.0
    cpu_max: float = 0.0
    datapoints: int = 0
    #: Routine calls that raised (the peer goes on, but its traffic is not what the routine meant).
    routine_errors: int = 0
    #: Datapoints the results service refused.
    rejected: int = 0
    #: Peers whose host failed during the test.
    lost: int = 0
    #: Where the peer hosts log (routine errors and failures are there).
    log_dir: str = ""
    #: Unexpected exceptions in the peers' and hosts' background work (the loops went on; see the logs).
    harness_errors: int = 0
    #: The results gateway's live page, and how to reach it from elsewhere (a cluster's port-forward).
    live_url: str = ""
    live_hint: str = ""
    #: What the InfluxDB relay of the embedded results service did so far (None: no relay).
    relay: RelayStats | None = None


@dataclass
class RunOutcome:
    """How the run ended and where its results are."""

    test_id: str = ""
    ok: bool = False
    reason: str = ""
    interrupted: bool = False
    owned: bool = False
    missing: dict[str, str] = field(default_factory=dict)
    #: Peers whose host failed (exception, killed actor) during the test, and why.
    lost: dict[str, str] = field(default_factory=dict)
    #: Every peer the run planned, ready or not.
    peer_ids: list[str] = field(default_factory=list)
    #: Datapoints the results service refused.
    rejected: int = 0
    #: Where the peer hosts' logs are (local Ray's session folder), when known.
    log_dir: str | None = None
    datapoints: int = 0
    json_path: Path | None = None
    parquet_path: Path | None = None
    results_url: str | None = None
    lighthouse_url: str | None = None
    #: The InfluxDB relay's final counts (None: no relay); `not_relayed` points never reached InfluxDB.
    relay: RelayStats | None = None


class RunAborted(PeerperfError):
    """The run cannot go on (peers missing at the deadline, capacity, a finished test...)."""


@dataclass
class _Services:
    lighthouse_url: str
    results: ResultsClient
    results_target: Any
    results_url: str | None
    actors: list[Any] = field(default_factory=list)
    #: The embedded results actor (None with an external results server).
    results_actor: Any = None


class Orchestrator:
    """Runs one test; `interrupt()` (Ctrl-C) ends it early but cleanly, a second one forcefully."""

    def __init__(
        self,
        config: RunConfig,
        on_progress: Callable[[RunSnapshot], None] | None = None,
        impairment: ImpairmentPlan | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.impairment = impairment
        #: Every setting of the run, recorded with the test so comparisons can show which ones differ.
        self.settings = settings if settings is not None else recorded_settings(config)
        self._on_progress = on_progress or (lambda snapshot: None)
        self._interrupts = 0
        self._stop = asyncio.Event()
        self.outcome = RunOutcome()
        self._hosts: list[tuple[Any, list[PeerSpec]]] = []
        self._restarts = HostRestarts(config.restart_hosts)
        self._on_cluster = False
        self._last = RunSnapshot("starting", config.peers, 0, 0, 0, 0.0, config.duration)
        #: Hosts whose progress call failed (said once each).
        self._unanswered: set[Any] = set()

    def interrupt(self) -> int:
        """Ask the run to stop; returns how many times it has been asked."""
        self._interrupts += 1
        self._stop.set()
        return self._interrupts

    # ---- the run ------------------------------------------------------------------------------

    async def run(self) -> RunOutcome:
        config = self.config
        routines = parse_mix(config.routine)
        self._show("starting Ray")
        started_ray = runtime.connect(config.address, config.peers)
        self._on_cluster = not started_ray
        hosts: list[Any] = []
        services: _Services | None = None
        try:
            services = await self._start_services()
            await self._prepare_test(services.results)
            rng = random.Random(config.seed)
            population = Population(
                config.peers,
                routines,
                config.layer,
                config.room,
                config.room_size,
                config.peer_id_length,
                config.layer_size,
            )
            await self._check_layer_capacity(services.lighthouse_url, population)
            specs = plan_peers(population, rng)
            if self.impairment is not None:
                specs = self.impairment.assign(specs)
                self._show(f"impairing {describe(specs)}")
            self.outcome.peer_ids = [spec.peer_id for spec in specs]
            self.outcome.log_dir = runtime.logs_dir()
            await self._record(
                services.results, {"settings": self.settings, "peerIds": self.outcome.peer_ids, "version": __version__}
            )
            hosts = self._spawn_hosts(specs, services.lighthouse_url, rng)
            ready_hosts = await self._barrier()
            await self._run_test(ready_hosts, services)
        except RunAborted as exc:
            self.outcome.reason = str(exc)
        except ConfigError as exc:
            self.outcome.reason = str(exc)
        finally:
            await self._cleanup(hosts, services)
            if started_ray:
                ray.shutdown()
        return self.outcome

    async def _start_services(self) -> _Services:
        config = self.config
        here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
        actors: list[Any] = []
        if config.lighthouse_url:
            lighthouse_url = config.lighthouse_url
        else:
            self._show("starting the lighthouse")
            capacity = config.max_per_layer or max(100, config.layer_size or config.peers)
            settings = resolve(
                LighthouseSettings,
                environ={},
                no_auth=True,
                host="",
                port=config.lighthouse_port,
                max_per_layer=capacity,
            )
            lighthouse_actor: Any = ray.remote(LighthouseService)
            lighthouse = lighthouse_actor.options(num_cpus=0, scheduling_strategy=here).remote(settings)
            actors.append(lighthouse)
            lighthouse_url = await lighthouse.start.remote()
        self.outcome.lighthouse_url = lighthouse_url
        if config.results_url:
            http = HttpResultsClient(config.results_url, token=config.results_token)
            self.outcome.results_url = config.results_url
            return _Services(lighthouse_url, http, config.results_url, config.results_url, actors)
        self._show("starting the results service")
        results_settings = ResultsSettings(location=config.output, token=config.results_token or "")
        actor = spawn_results_actor(results_settings, config.influx, scheduling_strategy=here)
        actors.append(actor)
        host = ray.util.get_node_ip_address()
        port = await actor.start.remote(host, config.results_port)
        client = ActorResultsClient(actor)
        self.outcome.results_url = f"http://{host}:{port}"
        hint = f"from your machine: ray attach cluster.yaml -p {port}, then http://127.0.0.1:{port}/"
        self._last = replace(
            self._last, live_url=f"{self.outcome.results_url}/", live_hint=hint if self._on_cluster else ""
        )
        return _Services(lighthouse_url, client, client, self.outcome.results_url, actors, actor)

    async def _prepare_test(self, results: ResultsClient) -> None:
        """Create the test, or join an existing one whose start someone else controls."""
        test_id = self.config.test_id
        if test_id is not None:
            try:
                info = await results.get_test(test_id)
            except PeerperfError as exc:
                if getattr(exc, "http_status", None) != 404:
                    raise RunAborted(f"cannot look up test {test_id}: {exc}") from exc
            else:
                if info.finished is not None:
                    raise RunAborted(f"test {test_id} has already finished")
                self.outcome.test_id, self.outcome.owned = test_id, False
                return
        try:
            info = await results.create_test(test_id)
        except PeerperfError as exc:
            raise RunAborted(f"cannot create the test: {exc}") from exc
        self.outcome.test_id, self.outcome.owned = info.id, True

    async def _check_layer_capacity(self, lighthouse_url: str, population: Population) -> None:
        """Refuse up front when a layer cannot hold its peers, instead of failing them one by one."""
        if not self.config.lighthouse_url:
            return  # the embedded lighthouse is sized for the run
        wanted = Counter(population.layer_of(index) for index in range(population.peers))
        async with aiohttp.ClientSession() as http:
            for layer_id, count in wanted.items():
                try:
                    async with http.get(f"{lighthouse_url.rstrip('/')}/layers/{layer_id}") as resp:
                        if resp.status == 404:
                            continue  # not there yet: created with the lighthouse's capacity
                        if resp.status != 200:
                            raise RunAborted(
                                f"the lighthouse at {lighthouse_url} answered GET /layers/{layer_id} with "
                                f"{resp.status}: {(await resp.text())[:200]}"
                            )
                        layer = await resp.json(content_type=None)
                except (aiohttp.ClientError, OSError, ValueError) as exc:
                    raise RunAborted(f"cannot reach the lighthouse at {lighthouse_url}: {exc}") from exc
                free = int(layer.get("maxUsers", 0)) - int(layer.get("usersCount", 0))
                if count > free:
                    raise RunAborted(
                        f"layer {layer_id!r} has room for {free} more peers (maxUsers {layer.get('maxUsers')}), but "
                        f"the run needs {count}; raise the lighthouse's MAX_PER_LAYER, use --layer-size, or use "
                        f"fewer peers"
                    )

    def _spawn_hosts(self, specs: list[PeerSpec], lighthouse_url: str, rng: random.Random) -> list[Any]:
        config = self.config
        settings = config.peer
        hosts = []
        for number, chunk in enumerate(group(specs, config.peers_per_actor)):
            host_config = HostConfig(
                f"host-{number:04d}", lighthouse_url, settings, config.stats_interval / 1000, seed=rng.randrange(2**32)
            )
            hosts.append((self._restarts.spawn(host_config, chunk), chunk))
        self._hosts = hosts
        if self._on_cluster:  # ask for every peer node at once: one scale-up, not one per actor
            request_resources(bundles=[{PEER_SLOT: float(len(chunk))} for _, chunk in hosts])
        return [h for h, _ in hosts]

    async def _barrier(self) -> list[Any]:
        """Wait until every peer has joined or the deadline passes; name every missing peer."""
        config = self.config
        pending = {asyncio.ensure_future(_await(host.setup.remote())): (host, chunk) for host, chunk in self._hosts}
        ready_hosts: list[Any] = []
        missing: dict[str, str] = {}
        ready_count = 0
        deadline = time.monotonic() + config.ready_timeout
        while pending and not self._stop.is_set() and time.monotonic() < deadline:
            done, _ = await asyncio.wait(pending, timeout=0.5)
            for future in done:
                host, chunk = pending.pop(future)
                try:
                    report: SetupReport = future.result()
                except ray.exceptions.RayError as exc:
                    report = SetupReport("?", "", [], {s.peer_id: f"host failed: {exc}" for s in chunk})
                if report.ready:
                    ready_hosts.append(host)
                ready_count += len(report.ready)
                missing.update(report.failed)
            placed = len(self._hosts) - len(pending)
            self._show(
                "connecting peers" if placed else "placing peer hosts",
                ready=ready_count,
                failed=len(missing),
                nodes=alive_nodes(),
            )
        for future in pending:
            future.cancel()
        unplaced = await _unplaced([host for host, _ in pending.values()])
        for host, chunk in pending.values():
            why = (
                f"its host was not placed on any node within {config.ready_timeout:.0f} s (no node with a free "
                f"{PEER_SLOT}: is the autoscaler able to add peer nodes?)"
                if host in unplaced
                else f"placed, but not connected and joined within {config.ready_timeout:.0f} s"
            )
            missing.update({s.peer_id: why for s in chunk})
        self.outcome.missing = missing
        if self._stop.is_set():
            self.outcome.interrupted = True
            raise RunAborted("interrupted while peers were connecting")
        if missing and config.on_missing == "abort":
            shown = ", ".join(f"{p[:12]}: {why}" for p, why in list(missing.items())[:10])
            raise RunAborted(
                f"{len(missing)} of {config.peers} peers are not ready ({shown}); "
                f"use --on-missing proceed to run without them"
            )
        return ready_hosts

    async def _run_test(self, hosts: list[Any], services: _Services) -> None:
        config = self.config
        outcome = self.outcome
        chunks = {id(host): chunk for host, chunk in self._hosts}
        runs = {
            asyncio.ensure_future(
                _await(
                    host.run.remote(
                        services.results_target,
                        outcome.test_id,
                        config.duration,
                        config.start_timeout,
                        config.results_token,
                    )
                )
            ): host
            for host in hosts
        }
        sampler = self._sample_topology(services)
        if outcome.owned:
            await services.results.start_test(outcome.test_id)
        else:
            self._show(
                f"waiting for test {outcome.test_id} to be started: PUT {outcome.results_url}/test/"
                f"{outcome.test_id}/start"
            )
        started_at: float | None = time.monotonic() if outcome.owned else None
        pending = set(runs)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=1.0)
            for future in done:
                try:
                    outcome.datapoints += future.result()
                except (ray.exceptions.RayError, PeerperfError, TimeoutError) as exc:
                    lost = chunks.get(id(runs[future]), [])
                    if started_at is not None and self._can_restart(runs[future], started_at):
                        run_rest = functools.partial(self._run_rest, services, started_at)
                        comeback = asyncio.ensure_future(self._restarts.come_back(runs[future], lost, hosts, run_rest))
                        runs[comeback] = runs[future]
                        pending.add(comeback)
                        continue
                    where = f" (its log: {outcome.log_dir})" if outcome.log_dir else ""
                    log.error("a peer host with %d peers failed%s: %s", len(lost), where, exc)
                    reason = f"its host failed during the test: {str(exc).splitlines()[0][:200]}"
                    outcome.lost.update({spec.peer_id: reason for spec in lost})
            if started_at is None:
                info = await services.results.get_test(outcome.test_id)
                started_at = time.monotonic() if info.started is not None else None
            if self._stop.is_set() and not outcome.interrupted:
                outcome.interrupted = True
                for host in hosts:
                    host.stop.remote()
            await self._show_running(hosts, started_at, services)
        await _stop_task(sampler)
        outcome.lost.update(self._restarts.not_back)
        await self._record(
            services.results,
            {
                "restartedPeers": self._restarts.renamed,
                "acceptedDatapoints": outcome.datapoints,  # what the hosts were told was stored
                "rejectedDatapoints": outcome.rejected,
                "lostPeers": outcome.lost,
                "missingPeers": outcome.missing,
            },
        )
        if outcome.owned:
            self._show("finishing the test")
            await services.results.finish_test(outcome.test_id)
        else:
            finish_url = f"{outcome.results_url}/test/{outcome.test_id}/finish"
            self._show(f"waiting for test {outcome.test_id} to be finished: PUT {finish_url}")
            await wait_finished(services.results, outcome.test_id, 0 if outcome.interrupted else config.finish_wait)
        outcome.relay = await _relay_stats(services, RELAY_DRAIN_TIMEOUT)
        await self._keep_files()
        tolerated = config.on_missing == "proceed"
        outcome.ok = (
            not outcome.interrupted
            and outcome.datapoints > 0
            and (tolerated or (not outcome.missing and not outcome.lost))
        )
        if not outcome.ok and not outcome.reason:
            if outcome.interrupted:
                outcome.reason = "interrupted"
            elif outcome.datapoints == 0:
                outcome.reason = "no datapoints were recorded"
            elif outcome.lost:
                outcome.reason = (
                    f"{len(outcome.lost)} peers were lost when their host failed (use --on-missing proceed to accept)"
                )
            else:
                outcome.reason = "some peers were missing"

    def _can_restart(self, host: Any, started_at: float) -> bool:
        """Whether to bring a failed host back (`--restart-hosts`): allowed, and the test has time left."""
        left = self.config.duration - (time.monotonic() - started_at)
        return (
            not self._stop.is_set()
            and left > 2 * self.config.stats_interval / 1000
            and self._restarts.can_restart(host)
        )

    async def _run_rest(self, services: _Services, started_at: float, host: Any) -> int:
        """Run a restarted host for what is left of the test."""
        left = self.config.duration - (time.monotonic() - started_at)
        config, outcome = self.config, self.outcome
        return int(
            await host.run.remote(
                services.results_target, outcome.test_id, left, config.start_timeout, config.results_token
            )
        )

    async def _record(self, results: ResultsClient, metadata: dict[str, Any]) -> None:
        """Keep what the run knows about itself with the test (its settings, who took part, what went wrong)."""
        if not self.outcome.owned:
            return  # someone else's test: its metadata is theirs
        try:
            await results.set_metadata(self.outcome.test_id, metadata)
        except PeerperfError as exc:  # e.g. the original results server, which has no metadata route
            log.warning("the results service did not keep the run's metadata: %s", exc)

    def _sample_topology(self, services: _Services) -> asyncio.Task[None] | None:
        if self.config.topology_interval <= 0:
            return None
        layers = sorted({spec.layer for _, chunk in self._hosts for spec in chunk})
        sampler = TopologySampler(
            services.lighthouse_url, layers, services.results, self.outcome.test_id, self.config.topology_interval
        )
        return asyncio.create_task(sampler.run())

    async def _keep_files(self) -> None:
        """Point the outcome at the test's files; a test kept by an external server is downloaded first."""
        outcome, folder = self.outcome, Path(self.config.output).expanduser()
        if self.config.results_url:
            try:
                outcome.json_path, outcome.parquet_path = await download_test(
                    self.config.results_url, outcome.test_id, folder, self.config.results_token
                )
            except PeerperfError as exc:
                log.error("the test's results could not be saved locally: %s", exc)
        elif (folder / f"{outcome.test_id}.json").exists():
            outcome.json_path = folder / f"{outcome.test_id}.json"
            outcome.parquet_path = folder / f"{outcome.test_id}.parquet"

    async def _show_running(self, hosts: list[Any], started_at: float | None, services: _Services) -> None:
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*(_await(h.progress.remote()) for h in hosts), return_exceptions=True), 5.0
            )
        except TimeoutError:
            return
        # A failed host is reported when its run ends; the live view goes on with the others.
        for host, answer in zip(hosts, answers, strict=True):
            if isinstance(answer, BaseException) and host not in self._unanswered:
                self._unanswered.add(host)
                log.warning("a peer host did not report its progress (not shown again for it): %r", answer)
        progress: list[HostProgress] = [a for a in answers if isinstance(a, HostProgress)]
        relay = await _relay_stats(services, 0.0)
        connections = [c for p in progress for c in p.connections]
        self.outcome.rejected = max(self.outcome.rejected, sum(p.rejected for p in progress))
        elapsed = time.monotonic() - started_at if started_at is not None else 0.0
        self._publish(
            RunSnapshot(
                "running" if started_at is not None else "waiting for the start signal",
                self.config.peers,
                sum(p.ready for p in progress),
                len(self.outcome.missing),
                len({p.node_id for p in progress}),
                elapsed,
                self.config.duration,
                sum(p.originated_per_second for p in progress),
                sum(p.received_per_second for p in progress),
                sum(connections) / len(connections) if connections else 0.0,
                min(connections, default=0),
                max((p.tick_lag_p99_ms for p in progress), default=0.0),
                max((p.cpu_percent for p in progress), default=0.0),
                sum(p.datapoints for p in progress),
                sum(p.routine_errors for p in progress),
                self.outcome.rejected,
                len(self.outcome.lost),
                self.outcome.log_dir or "",
                sum(p.harness_errors for p in progress),
                self._last.live_url,
                self._last.live_hint,
                relay,
            )
        )

    def _show(self, phase: str, ready: int | None = None, failed: int | None = None, nodes: int | None = None) -> None:
        """A new phase; the figures of the last snapshot stay on screen unless given."""
        last = self._last
        self._publish(
            replace(
                last,
                phase=phase,
                ready=last.ready if ready is None else ready,
                failed=last.failed if failed is None else failed,
                nodes=last.nodes if nodes is None else nodes,
            )
        )

    def _publish(self, snapshot: RunSnapshot) -> None:
        self._last = snapshot
        self._on_progress(snapshot)

    async def _cleanup(self, hosts: list[Any], services: _Services | None) -> None:
        self._show("stopping")
        if self._on_cluster and hosts:
            request_resources(bundles=[])  # let the autoscaler take the peer nodes back
        if hosts:
            answers = await asyncio.gather(
                *(asyncio.wait_for(_await(h.shutdown.remote()), SHUTDOWN_TIMEOUT) for h in hosts),
                return_exceptions=True,
            )
            failures = [a for a in answers if isinstance(a, BaseException)]
            if failures:
                log.warning("%d peer host(s) did not shut down cleanly (killed anyway): %r", len(failures), failures[0])
            for host in hosts:
                ray.kill(host)
        if services is not None:
            await services.results.close()
            for actor in services.actors:
                try:
                    await asyncio.wait_for(_await(actor.stop.remote()), SHUTDOWN_TIMEOUT)
                except (TimeoutError, ray.exceptions.RayError) as exc:
                    log.warning("a service did not stop cleanly: %s", exc)
                ray.kill(actor)


async def _await(ref: Any) -> Any:
    return await ref


async def _relay_stats(services: _Services, drain_timeout: float) -> RelayStats | None:
    """The embedded results service's relay counts (None without a relay or with an external server)."""
    if services.results_actor is None:
        return None
    try:
        stats: RelayStats | None = await asyncio.wait_for(
            _await(services.results_actor.relay_stats.remote(drain_timeout)), drain_timeout + 5.0
        )
    except (TimeoutError, ray.exceptions.RayError) as exc:
        log.warning("the InfluxDB relay's counts are not known: %s", exc)
        return None
    return stats


async def _stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a helper task; what it raised before is logged, not lost."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("a background task of the run failed")


def alive_nodes() -> int:
    return sum(1 for node in ray.nodes() if node.get("Alive"))


async def _unplaced(hosts: list[Any], timeout: float = 2.0) -> list[Any]:
    """Hosts whose actor does not answer: still waiting for a node (a placed host answers at once)."""
    futures = {asyncio.ensure_future(_await(h.progress.remote())): h for h in hosts}
    if not futures:
        return []
    done, pending = await asyncio.wait(futures, timeout=timeout)
    for future in pending:
        future.cancel()
    return [futures[f] for f in pending] + [futures[f] for f in done if f.exception() is not None]
