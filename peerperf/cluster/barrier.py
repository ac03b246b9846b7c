"""The start barrier: wait until every peer has joined or the deadline passes, and name every missing peer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import ray

from peerperf.cluster.actor_calls import awaited
from peerperf.cluster.peerhost_actor import PEER_SLOT
from peerperf.cluster.placement import PlacedHost, alive_nodes, unplaced
from peerperf.cluster.run_aborted import RunAborted
from peerperf.config import RunConfig
from peerperf.run_state import RunOutcome
from peerperf.sim.host import SetupReport

#: Called with the phase and the figures so far: ready peers, failed peers, alive nodes.
ShowProgress = Callable[..., None]


async def barrier(
    placed: list[PlacedHost], config: RunConfig, stop: asyncio.Event, outcome: RunOutcome, show: ShowProgress
) -> list[Any]:
    """The hosts with ready peers; missing peers go to `outcome.missing` (RunAborted unless tolerated)."""
    pending = {asyncio.ensure_future(awaited(host.setup.remote())): (host, chunk) for host, chunk in placed}
    ready_hosts: list[Any] = []
    missing: dict[str, str] = {}
    ready_count = 0
    deadline = time.monotonic() + config.ready_timeout
    while pending and not stop.is_set() and time.monotonic() < deadline:
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
        placed_count = len(placed) - len(pending)
        show(
            "connecting peers" if placed_count else "placing peer hosts",
            ready=ready_count,
            failed=len(missing),
            nodes=alive_nodes(),
        )
    for future in pending:
        future.cancel()
    not_placed = await unplaced([host for host, _ in pending.values()])
    for host, chunk in pending.values():
        why = (
            f"its host was not placed on any node within {config.ready_timeout:.0f} s (no node with a free "
            f"{PEER_SLOT}: is the autoscaler able to add peer nodes?)"
            if host in not_placed
            else f"placed, but not connected and joined within {config.ready_timeout:.0f} s"
        )
        missing.update({s.peer_id: why for s in chunk})
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
    return ready_hosts
