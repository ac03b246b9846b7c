"""The start barrier: start every peer host, then join all their peers at once; wait until every
peer has joined or the deadline passes, and name every missing peer.

Why two phases: starting a Ray worker costs a core-second or two, and on a node starting many of
them the cores stay saturated until the last one is up. Peers joined as soon as their own host
answered would open their connections on that saturated node: handshakes miss the peer connection
timeout, and a peer asks for new connection hints only every `optimize_network_interval` (30 s).
Joined together once every host is up, they connect on an idle machine (in one run of 50 one-peer
hosts on 2 cores joined one by one, the last channel opened 70 s after the last join; see
bench/time_to_ready.py --compare-join).
Hosts that answer much later (a node still being added) do not hold the others back: after
`JOIN_QUIET` seconds without a host starting, the started ones join, and later ones join as they come.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import ray

from peerperf.cluster.peerhost_actor import PEER_SLOT
from peerperf.cluster.placement import PlacedHost, alive_nodes
from peerperf.cluster.runtime import awaited
from peerperf.config import RunConfig
from peerperf.errors import RunAborted
from peerperf.run_state import RunOutcome
from peerperf.sim.host_reports import SetupReport

#: Called with the phase and the figures so far: ready peers, failed peers, alive nodes.
ShowProgress = Callable[..., None]
#: How often progress is shown while waiting.
SHOW_EVERY = 0.5
#: Started hosts wait for the others to start until none has started for this long.
JOIN_QUIET = 10.0


async def barrier(
    placed: list[PlacedHost], config: RunConfig, stop: asyncio.Event, outcome: RunOutcome, show: ShowProgress
) -> dict[Any, SetupReport]:
    """The hosts with ready peers, each with its setup report (where it runs); missing peers go to
    `outcome.missing` (RunAborted unless tolerated)."""
    waiting = _Barrier(placed, show)
    await waiting.run(time.monotonic() + config.ready_timeout, stop)
    missing = waiting.missing
    not_placed = (
        f"its host was not placed on any node within {config.ready_timeout:.0f} s (no node with a free "
        f"{PEER_SLOT}: is the autoscaler able to add peer nodes?)"
    )
    not_joined = f"placed, but not connected and joined within {config.ready_timeout:.0f} s"
    for _, chunk in waiting.starting.values():
        missing.update({s.peer_id: not_placed for s in chunk})
    for _, chunk in [*waiting.joining.values(), *waiting.held]:
        missing.update({s.peer_id: not_joined for s in chunk})
    outcome.missing = missing
    if stop.is_set():
        outcome.interrupted = True
        raise RunAborted("interrupted while peers were connecting")
    if missing and config.on_missing == "abort":
        shown = ", ".join(f"{p[:12]}: {why}" for p, why in list(missing.items())[:10])
        raise RunAborted(
            f"{len(missing)} of {config.peers} peers are not ready ({shown}); "
            f"use --on-missing proceed to run without them"
        )
    return waiting.ready_hosts


class _Barrier:
    """Hosts move from starting (actor not answering yet) to held (started, waiting for the others)
    to joining (connecting and joining their peers) to ready."""

    def __init__(self, placed: list[PlacedHost], show: ShowProgress) -> None:
        self.show = show
        self.starting: dict[asyncio.Future[Any], PlacedHost] = {
            asyncio.ensure_future(awaited(h.progress.remote())): (h, chunk) for h, chunk in placed
        }
        self.held: list[PlacedHost] = []
        self.joining: dict[asyncio.Future[Any], PlacedHost] = {}
        self.ready_hosts: dict[Any, SetupReport] = {}
        self.ready_count = 0
        self.missing: dict[str, str] = {}
        self.last_start = time.monotonic()

    async def run(self, deadline: float, stop: asyncio.Event) -> None:
        try:
            while (self.starting or self.joining) and not stop.is_set() and time.monotonic() < deadline:
                done, _ = await asyncio.wait([*self.starting, *self.joining], timeout=SHOW_EVERY)
                for future in done:
                    if future in self.starting:
                        self._started(future)
                    else:
                        self._joined(future)
                if self.held and (not self.starting or time.monotonic() - self.last_start >= JOIN_QUIET):
                    self._join_held()
                phase = "connecting peers" if self.joining or self.ready_count else "placing peer hosts"
                self.show(phase, ready=self.ready_count, failed=len(self.missing), nodes=alive_nodes())
        finally:
            for future in [*self.starting, *self.joining]:
                future.cancel()

    def _started(self, future: asyncio.Future[Any]) -> None:
        host, chunk = self.starting.pop(future)
        try:
            future.result()
        except ray.exceptions.RayError as exc:
            self.missing.update({s.peer_id: f"host failed: {exc}" for s in chunk})
            return
        self.held.append((host, chunk))
        self.last_start = time.monotonic()

    def _join_held(self) -> None:
        for host, chunk in self.held:
            self.joining[asyncio.ensure_future(awaited(host.setup.remote()))] = (host, chunk)
        self.held = []

    def _joined(self, future: asyncio.Future[Any]) -> None:
        host, chunk = self.joining.pop(future)
        try:
            report: SetupReport = future.result()
        except ray.exceptions.RayError as exc:
            report = SetupReport("?", "", [], {s.peer_id: f"host failed: {exc}" for s in chunk})
        if report.ready or report.deferred:  # a host whose peers all join later (--stages) runs the test too
            self.ready_hosts[host] = report
        self.ready_count += len(report.ready)
        self.missing.update(report.failed)
