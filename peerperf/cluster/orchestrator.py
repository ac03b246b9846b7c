"""One whole test run, driven from the Ray driver.

Start the services (unless external URLs are given), create or join the test, place the peer hosts,
wait until every peer has joined (a barrier with a deadline that names who is missing), start the
test, watch progress, finish, and always clean up what was started. Each step lives in its own
module (`embedded_services`, `run_records`, `layer_capacity`, `placement`, `barrier`, `progress`,
`run_finish`); this one runs them in order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import ray

from peerperf import __version__
from peerperf.cluster import runtime
from peerperf.cluster.barrier import barrier
from peerperf.cluster.browser_peers import BrowserPeers
from peerperf.cluster.embedded_services import RunServices, relay_stats, start_services, stop_services
from peerperf.cluster.host_failures import failure_reason
from peerperf.cluster.host_restarts import HostRestarts
from peerperf.cluster.layer_capacity import plan_layers
from peerperf.cluster.placement import PlacedHost, spawn_hosts, stop_hosts, warn_if_overloaded
from peerperf.cluster.progress import RunProgress
from peerperf.cluster.run_finish import finish
from peerperf.cluster.run_records import prepare_test, record, staged
from peerperf.cluster.runtime import awaited
from peerperf.cluster.topology_sampler import TopologySampler
from peerperf.config import RunConfig, recorded_settings
from peerperf.errors import ConfigError, PeerperfError, RunAborted
from peerperf.run_state import RunOutcome, RunSnapshot
from peerperf.sim.host_reports import SetupReport
from peerperf.sim.impairment_plan import ImpairmentPlan, describe
from peerperf.sim.population import plan_peers
from peerperf.sim.routines import parse_mix
from peerperf.sim.stages import instance_ids

log = logging.getLogger(__name__)

__all__ = ["Orchestrator", "RunAborted", "RunOutcome", "RunSnapshot"]


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
        self.progress = RunProgress(config.peers, config.duration, on_progress, config.stage_plan)
        self._interrupts = 0
        self._stop = asyncio.Event()
        self.outcome = RunOutcome()
        self._hosts: list[PlacedHost] = []
        self._restarts = HostRestarts(config.restart_hosts)
        self._on_cluster = False
        self._browsers: BrowserPeers | None = None

    def interrupt(self) -> int:
        """Ask the run to stop; returns how many times it has been asked."""
        self._interrupts += 1
        self._stop.set()
        return self._interrupts

    async def run(self) -> RunOutcome:
        config = self.config
        try:  # before anything starts: a layer size the lighthouse would refuse is the user's to fix
            layers = await plan_layers(config, parse_mix(config.routine))
        except ConfigError as exc:
            self.outcome.reason, self.outcome.bad_arguments = str(exc), True
            return self.outcome
        except RunAborted as exc:
            self.outcome.reason = str(exc)
            return self.outcome
        population = layers.population
        self.progress.show_layers(population.describe_layers())
        self._show("starting Ray")
        started_ray = runtime.connect(config.address, config.peers, browser_slots=config.browser_peers)
        self._on_cluster = not started_ray
        services: RunServices | None = None
        try:
            services = await start_services(config, self.outcome, self._show, self._on_cluster)
            if services.live_url:
                self.progress.show_live_page(services.live_url, services.live_hint)
            await prepare_test(services.results, config.test_id, self.outcome)
            rng = random.Random(config.seed)
            await warn_if_overloaded(config, population, self._on_cluster, self._show)
            specs = plan_peers(population, rng)
            if self.impairment is not None:
                specs = self.impairment.assign(specs)
                self._show(f"impairing {describe(specs)}")
            plan = config.stage_plan
            self.outcome.peer_ids = [spec.peer_id for spec in specs] if plan is None else instance_ids(plan, specs)
            self.outcome.log_dir = runtime.logs_dir()
            # Timer phases follow --seed; without one, a timer seed is drawn, and recorded either way.
            timer_seed = config.seed if config.seed is not None else random.randrange(2**32)
            await record(
                services.results,
                self.outcome,
                {
                    "settings": self.settings,
                    "peerIds": self.outcome.peer_ids,
                    "version": __version__,
                    "layers": {"sizes": population.layer_sizes(), "capacity": layers.capacity, "source": layers.source},
                    "timerSeed": timer_seed,
                    **staged(plan, specs),
                },
            )
            self._hosts = spawn_hosts(
                config,
                specs,
                services.lighthouse_url,
                rng,
                self._on_cluster,
                spawn=self._restarts.spawn,
                timer_seed=timer_seed,
            )
            if config.browser_peers:
                self._browsers = BrowserPeers(config)
                self._show("opening browser pages")
                results_url = services.results_url or ""
                opened = await self._browsers.start(services.lighthouse_url, results_url, self.outcome.test_id)
            ready_hosts = await barrier(self._hosts, config, self._stop, self.outcome, self._show)
            if self._browsers is not None:
                await self._pages_waiting(opened)
            await self._run_test(ready_hosts, services)
        except RunAborted as exc:
            self.outcome.reason = str(exc)
        except ConfigError as exc:
            self.outcome.reason = str(exc)
        finally:
            await self._cleanup(services)
            if started_ray:
                ray.shutdown()
        return self.outcome

    async def _pages_waiting(self, failed: dict[str, str]) -> None:
        """The start barrier's part for browser pages: every page loaded and waiting for the start."""
        assert self._browsers is not None
        self._show("waiting for browser pages")
        missing = {**failed, **await self._browsers.wait("loaded", self.config.ready_timeout)}
        self.outcome.missing.update(missing)
        if missing and self.config.on_missing == "abort":
            shown = ", ".join(f"{page}: {why}" for page, why in list(missing.items())[:10])
            raise RunAborted(
                f"{len(missing)} of {self.config.browser_peers} browser pages are not ready ({shown}); "
                f"use --on-missing proceed to run without them"
            )

    async def _pages_joined(self) -> None:
        """After the start (the original page's peer joins only then): name the pages whose peer never joined."""
        if self._browsers is not None:
            self.outcome.missing.update(await self._browsers.wait("joined", self.config.ready_timeout))

    async def _run_test(self, hosts: dict[Any, SetupReport], services: RunServices) -> None:
        """`hosts`: the ready hosts, each with its setup report (where it runs, to name it if it fails)."""
        config = self.config
        outcome = self.outcome
        chunks = {id(host): chunk for host, chunk in self._hosts}
        runs = {asyncio.ensure_future(self._run_host(host, services, config.duration)): host for host in hosts}
        sampler = self._topology_sampler(services)
        sampling = asyncio.create_task(sampler.run()) if sampler is not None else None
        if outcome.owned:
            await services.results.start_test(outcome.test_id)
        else:
            self._show(
                f"waiting for test {outcome.test_id} to be started: PUT {outcome.results_url}/test/"
                f"{outcome.test_id}/start"
            )
        started_at: float | None = time.monotonic() if outcome.owned else None
        if self._browsers is not None:
            await self._browsers.mark_start()
        joining = asyncio.create_task(self._pages_joined())
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
                        worth_it = functools.partial(self._time_for_a_restart, started_at)
                        comeback = asyncio.ensure_future(
                            self._restarts.come_back(runs[future], lost, hosts, run_rest, worth_it)
                        )
                        runs[comeback] = runs[future]
                        pending.add(comeback)
                        continue
                    reason = failure_reason(exc, hosts.get(runs[future]), ray.nodes())
                    where = f" (its log: {outcome.log_dir})" if outcome.log_dir else ""
                    log.error("%d peers lost%s: %s", len(lost), where, reason)
                    outcome.lost.update({spec.peer_id: reason for spec in lost})
            if started_at is None:
                info = await services.results.get_test(outcome.test_id)
                started_at = time.monotonic() if info.started is not None else None
            if self._stop.is_set() and not outcome.interrupted:
                outcome.interrupted = True
                for host in hosts:
                    host.stop.remote()
            await self.progress.poll_hosts(list(hosts), started_at, outcome, await relay_stats(services, 0.0))
        await _stop_task(sampling)
        outcome.lost.update(self._restarts.not_back)
        await joining
        if self._browsers is not None:
            outcome.lost.update(await self._browsers.lost())
        await record(
            services.results,
            outcome,
            {
                "restartedPeers": self._restarts.renamed,
                "acceptedDatapoints": outcome.datapoints,  # what the hosts were told was stored
                "rejectedDatapoints": outcome.rejected,
                "lostPeers": outcome.lost,
                "missingPeers": outcome.missing,
                **(
                    {"browserPages": self._browsers.report(), "browserHosts": self._browsers.host_report()}
                    if self._browsers is not None
                    else {}
                ),
                **(sampler.report(outcome) if sampler is not None else {}),
            },
        )
        await finish(config, services, outcome, self._show)

    def _can_restart(self, host: Any, started_at: float) -> bool:
        """Whether to bring a failed host back (`--restart-hosts`): allowed, and the test has time left."""
        return self._time_for_a_restart(started_at) and self._restarts.can_restart(host)

    def _time_for_a_restart(self, started_at: float) -> bool:
        """Whether the test goes on for more than two stats windows: time for a restarted host to report."""
        left = self.config.duration - (time.monotonic() - started_at)
        return not self._stop.is_set() and left > 2 * self.config.stats_interval / 1000

    async def _run_rest(self, services: RunServices, started_at: float, host: Any) -> int:
        """Run a restarted host for what is left of the test."""
        return await self._run_host(host, services, self.config.duration - (time.monotonic() - started_at))

    async def _run_host(self, host: Any, services: RunServices, duration: float) -> int:
        """A host's part of the test: its peers run `duration` s; returns the datapoints it submitted."""
        config = self.config
        return int(
            await awaited(
                host.run.remote(
                    services.results_target, self.outcome.test_id, duration, config.start_timeout, config.results_token
                )
            )
        )

    def _topology_sampler(self, services: RunServices) -> TopologySampler | None:
        if self.config.topology_interval <= 0:
            return None
        layers = sorted({spec.layer for _, chunk in self._hosts for spec in chunk})
        return TopologySampler(
            services.lighthouse_url, layers, services.results, self.outcome.test_id, self.config.topology_interval
        )

    def _show(self, phase: str, ready: int | None = None, failed: int | None = None, nodes: int | None = None) -> None:
        self.progress.show(phase, ready, failed, nodes)

    async def _cleanup(self, services: RunServices | None) -> None:
        self._show("stopping")
        if self._browsers is not None:
            await self._browsers.stop()
        await stop_hosts([host for host, _ in self._hosts] + self._restarts.replacements, self._on_cluster)
        if services is not None:
            await stop_services(services)


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
