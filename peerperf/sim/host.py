"""A peer host: K simulated peers on one event loop, one tick loop, one stats batch per interval.

The host is a plain class (a Ray actor wraps it in `peerperf.cluster`). Its life is `setup()`
(connect and join every peer, report who is ready), `run()` (wait for the test to start, tick the
routines for the duration, submit every peer's datapoint each stats interval) and `shutdown()`.
Every periodic timer of its peers, and its own tick loop and submissions, start at a phase drawn
from the run's timer seed (`peerperf.sim.phases`); only the stats windows close together.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from peerperf.errors import PeerperfError
from peerperf.peer.origin_windows import WindowGrid
from peerperf.protocol.wallclock import now_ms
from peerperf.results.client import ResultsClient
from peerperf.results.model import BatchResult, Submission
from peerperf.sim.clock import HostClock
from peerperf.sim.finalresults import submit_final_results
from peerperf.sim.host_config import HostConfig, PeerSpec
from peerperf.sim.host_peers import add_host_view, make_peer
from peerperf.sim.host_reports import HostProgress, LastWindow, SetupReport, host_fields, host_progress
from peerperf.sim.hostload import HostLoad
from peerperf.sim.phases import SUBMIT, TICK, phase
from peerperf.sim.simpeer import SimulatedPeer
from peerperf.sim.stages import Session
from peerperf.sim.tickloop import TickLoop
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

#: A host submits a closed window up to this long after the window's end (its `submit` phase x this),
#: so the hosts of a run do not all call the results service in the same instant.
SUBMIT_SPREAD = 1.0


class PeerHost:
    """Runs the simulated peers given to it."""

    def __init__(self, config: HostConfig, specs: list[PeerSpec]) -> None:
        self.config = config
        self.specs = specs
        self._rng = random.Random(config.seed)
        # The host owns the stats windows so every peer's window closes at the same moment.
        self._settings = replace(config.peer_settings, stats_update_interval=0)
        self.sims: list[SimulatedPeer] = []
        self.failed: dict[str, str] = {}
        self._loop: TickLoop | None = None
        self._load = HostLoad()
        self._window = LastWindow()
        self._running = False
        self._stopping = asyncio.Event()
        self.datapoints = 0
        self.rejected: list[str] = []
        self._grid_start = 0.0
        #: The last window submitted: a timer firing a hair early must not send the same window twice.
        self._last_window = 0
        self._clock = HostClock()
        self._routine_errors_reported: dict[str, int] = {}
        #: The host's own loops (stats windows, shutdown); refusals by the results service are expected.
        self.supervisor = Supervisor(f"host {config.host_id}", expected=(PeerperfError,), logger=log)
        self._harness_errors_reported = 0
        timer_seed = config.timer_seed if config.timer_seed is not None else config.seed
        self._timer_seed = timer_seed
        first = specs[0].index if specs else 0
        self._tick_phase = phase(timer_seed, TICK, first)
        self._submit_phase = phase(timer_seed, SUBMIT, first)
        #: How long after a window's end this host submits it (at most half an interval).
        self.submit_delay = self._submit_phase * min(SUBMIT_SPREAD, config.stats_interval / 2)
        slots = {spec.index: spec for spec in specs}
        plan = config.stages
        #: With `--stages`: this host's sessions, each with its peer's spec (the instance's id).
        self._sessions = [
            (session, replace(slots[session.slot], peer_id=session.instance_id(slots[session.slot].peer_id)))
            for session in (plan.sessions if plan is not None else ())
            if session.slot in slots
        ]
        #: Peers that left (`--stages`), and their last, partial window's metrics, submitted with the host's
        #: next window: (peer, window number, metrics).
        self._departed: list[tuple[SimulatedPeer, int, dict[str, Any]]] = []
        self._gone: list[SimulatedPeer] = []
        self._grid: WindowGrid | None = None

    async def setup(self) -> SetupReport:
        """Connect every peer active at the start, join its layer and room; failures are reported per peer."""
        now = [spec for session, spec in self._sessions if session.join <= 0] if self._sessions else self.specs
        later = [spec.peer_id for session, spec in self._sessions if session.join > 0]
        results = await asyncio.gather(*(self._setup_peer(spec) for spec in now))
        self.sims = [sim for sim in results if sim is not None]
        ready = [s.id for s in self.sims]
        return SetupReport(self.config.host_id, self.config.node_id, ready, dict(self.failed), later)

    async def _setup_peer(self, spec: PeerSpec) -> SimulatedPeer | None:
        sim = make_peer(spec, self.config, self._settings, self._clock, self._rng, self._timer_seed)
        peer = sim.peer
        began = time.monotonic()
        try:
            await peer.connect()
            await peer.set_layer(spec.layer)
            await peer.join_room(spec.room)
            sim.join_ms = (time.monotonic() - began) * 1000
        except (PeerperfError, OSError) as exc:
            self.failed[spec.peer_id] = str(exc)
            log.warning("peer %s could not join: %s", spec.peer_id, exc)
            await peer.dispose()
            return None
        except asyncio.CancelledError:  # the test ended while a staged peer was joining
            await peer.dispose()
            raise
        return sim

    async def run(self, results: ResultsClient, test_id: str, duration: float, start_timeout: float) -> int:
        """Wait for the start, run the routines for `duration` s, submit datapoints; returns how many."""
        info = await results.wait_started(test_id, start_timeout)
        await self._clock.update(results.server_time_ms)
        # Windows close on a grid from the test's start (the results service's clock), the same on every
        # host, so window n of one host spans what window n of every other host spans.
        reference_start, offset = (
            (int(now_ms()), 0.0) if info.started is None else (info.started, self._clock.offset_ms)
        )
        self._grid_start = (reference_start + offset) / 1000
        self._grid = WindowGrid(reference_start, round(self.config.stats_interval * 1000), offset)
        for sim in self.sims:  # a fresh window at the start: setup traffic is not test traffic
            self._reset_window(sim)
        self._load.sample()
        self._loop = TickLoop(self.config.tick_hz, self._tick, phase=self._tick_phase)
        now = time.monotonic()
        for sim in self.sims:
            sim.start(now)
        self._running = True
        ended = asyncio.Event()
        stats = asyncio.create_task(self._submit_every_interval(results, test_id, ended))
        sessions = [asyncio.create_task(self._follow(session, spec)) for session, spec in self._sessions]
        try:
            ticking = asyncio.create_task(self._loop.run(duration))
            stopped = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({ticking, stopped}, return_when=asyncio.FIRST_COMPLETED)
            self._loop.stop()
            stopped.cancel()
            await ticking
        finally:
            for task in sessions:  # joins and leaves planned after the end do not happen
                task.cancel()
            await asyncio.gather(*sessions, return_exceptions=True)
            self._running = False
            ended.set()  # not cancel(): a submission under way completes, so no window is lost
            await stats
        last = self._next_window()  # the last, partial window
        await self.supervisor.call(functools.partial(self._submit, results, test_id, last), f"submitting window {last}")
        self._count(await results.drain())  # what a results outage left queued
        everyone = [*self.sims, *self._gone]
        phases = {sim.id: (sim.peer, self.timer_phases(sim)) for sim in everyone}
        await submit_final_results(results, test_id, phases, self.config.host_id)
        return self.datapoints

    def _reset_window(self, sim: SimulatedPeer) -> None:
        """Start `sim`'s stats afresh on the run's window grid (packets by origin window: the same on every host)."""
        assert self._grid is not None
        sim.peer.close_stats_window()
        sim.peer.measures.windows.set_grid(self._grid)

    async def _follow(self, session: Session, spec: PeerSpec) -> None:
        """One staged instance's life: join through the lighthouse at its time, leave at its time."""
        if session.join > 0:
            await self._until(session.join)
            sim = await self._setup_peer(spec)
            if sim is None:
                return
            self._reset_window(sim)
            sim.start(time.monotonic())
            self.sims.append(sim)
        else:
            sim = next((s for s in self.sims if s.id == spec.peer_id), None)
        if session.leave is None or sim is None:
            return
        await self._until(session.leave)
        await self._leave(sim)

    async def _leave(self, sim: SimulatedPeer) -> None:
        """The original's leave: the peer stops, its connections close and it disconnects from the lighthouse.
        Its last, partial window goes with the host's next datapoints (the same window number)."""
        self.sims.remove(sim)
        self._departed.append((sim, self._next_window(), sim.peer.close_stats_window()))
        self._gone.append(sim)
        await self.supervisor.call(sim.peer.dispose, f"disposing departed peer {sim.id}")

    async def _until(self, t: float) -> None:
        """Sleep until `t` s after the test's start (the window grid's origin)."""
        await asyncio.sleep(max(0.0, self._grid_start + t - time.time()))

    def timer_phases(self, sim: SimulatedPeer) -> dict[str, float]:
        """The phases `sim` and this host ran with (recorded in the peer's final results)."""
        return {**sim.timer_phases(), TICK: self._tick_phase, SUBMIT: self._submit_phase}

    def stop(self) -> None:
        """End `run` early (Ctrl-C): the current window is still submitted."""
        self._stopping.set()

    def _tick(self, now: float, delta: float) -> None:
        for sim in self.sims:
            sim.tick(now, delta)

    def _next_window(self) -> int:
        """The number of the window being filled now: n covers grid start + [n - 1, n) intervals."""
        now = math.floor((time.time() - self._grid_start) / self.config.stats_interval) + 1
        return max(now, self._last_window + 1)

    async def _submit_every_interval(self, results: ResultsClient, test_id: str, ended: asyncio.Event) -> None:
        while True:
            number = self._next_window()
            delay = max(0.0, self._grid_start + number * self.config.stats_interval - time.time())
            if await _set_within(ended, delay):
                return
            await self.supervisor.call(
                functools.partial(self._submit, results, test_id, number, self.submit_delay),
                f"submitting window {number}",
            )

    async def _submit(self, results: ResultsClient, test_id: str, window: int, delay: float = 0.0) -> None:
        """Close `window` now (on the grid) and submit it `delay` s later.

        The delay is never cut short, not even by the end of the run: every whole window's datapoints
        then reach the results service the same time after the window's end, so their timestamps stay
        a window apart."""
        batch = self._close_window(window)
        if not batch and self._sessions:  # no peer active in this window (--stages): nothing to report
            return
        await asyncio.sleep(delay)
        try:
            result = await results.submit_batch(test_id, batch)
        except PeerperfError as exc:
            log.error("host %s: a batch of %d datapoints was refused: %s", self.config.host_id, len(batch), exc)
            self.rejected.append(str(exc))
            return
        self._count(result)
        await self._clock.update(results.server_time_ms)  # for the next window, after this one is in

    def _close_window(self, window: int) -> list[Submission]:
        """Every peer's datapoint of `window`, with the host's own figures."""
        assert self._loop is not None
        self._last_window = window
        lag = self._loop.lag.window()
        load = self._load.sample()
        own = host_fields(self.config, window, lag, load, self._clock.offset)
        own["hostHarnessErrors"] = self.supervisor.errors - self._harness_errors_reported
        self._harness_errors_reported = self.supervisor.errors
        batch = []
        originated = received = 0.0
        by_subtype: Counter[str] = Counter()
        departed = [(sim, metrics) for sim, number, metrics in self._departed if number <= window]
        self._departed = [entry for entry in self._departed if entry[1] > window]
        for sim, metrics in [*((sim, sim.peer.close_stats_window()) for sim in self.sims), *departed]:
            originated += metrics["originatedPerSecond"]
            received += metrics["receivedPerSecond"]
            by_subtype.update(metrics["receivedBySubtype"])
            errors = sim.routine_errors - self._routine_errors_reported.get(sim.id, 0)
            self._routine_errors_reported[sim.id] = sim.routine_errors
            add_host_view(metrics, sim, own, errors)
            batch.append(Submission(sim.id, metrics))
        fields = {**own, "receivedBySubtype": dict(by_subtype), "timestamp": now_ms()}
        self._window = LastWindow(lag, load.cpu_percent, load.rss_mb, originated, received, fields)
        return batch

    def _count(self, result: BatchResult) -> None:
        self.datapoints += result.accepted
        self.rejected.extend(result.rejected)

    def progress(self) -> HostProgress:
        """A cheap snapshot for the live view."""
        totals = (self.datapoints, len(self.rejected), self.supervisor.errors)
        return host_progress(self.config, len(self.specs), self.sims, self._running, self._window, totals)

    async def shutdown(self) -> None:
        """Dispose every peer (no tasks, sockets or connections left)."""
        for sim in self.sims:
            await self.supervisor.call(sim.peer.dispose, f"disposing peer {sim.id}")


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; whether it is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()
