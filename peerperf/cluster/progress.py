"""The live view's feed: phase changes, and once a second a snapshot gathered from every peer host."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from peerperf.cluster.runtime import awaited
from peerperf.results.influx.relay_stats import RelayStats
from peerperf.run_state import RunOutcome, RunSnapshot
from peerperf.sim.host_reports import HostProgress
from peerperf.sim.stages import StagePlan

log = logging.getLogger(__name__)


class RunProgress:
    """Publishes `RunSnapshot`s to `on_progress`; a phase change keeps the last figures on screen."""

    def __init__(
        self,
        peers: int,
        duration: float,
        on_progress: Callable[[RunSnapshot], None] | None = None,
        stages: StagePlan | None = None,
    ) -> None:
        self._on_progress = on_progress or (lambda snapshot: None)
        self._stages = stages if stages is not None and stages.explicit else None
        self.last = RunSnapshot("starting", peers, 0, 0, 0, 0.0, duration)
        #: Hosts whose progress call failed (said once each).
        self._unanswered: set[Any] = set()

    def show(self, phase: str, ready: int | None = None, failed: int | None = None, nodes: int | None = None) -> None:
        """A new phase; the figures of the last snapshot stay on screen unless given."""
        last = self.last
        self.publish(
            replace(
                last,
                phase=phase,
                ready=last.ready if ready is None else ready,
                failed=last.failed if failed is None else failed,
                nodes=last.nodes if nodes is None else nodes,
            )
        )

    def show_layers(self, layers: str) -> None:
        """How the peers are spread over layers (shown from the next snapshot on)."""
        self.last = replace(self.last, layers=layers)

    def show_live_page(self, url: str, hint: str) -> None:
        """Where the results gateway's live page is (shown from the next snapshot on)."""
        self.last = replace(self.last, live_url=url, live_hint=hint)

    def publish(self, snapshot: RunSnapshot) -> None:
        self.last = snapshot
        self._on_progress(snapshot)

    async def poll_hosts(
        self, hosts: list[Any], started_at: float | None, outcome: RunOutcome, relay: RelayStats | None
    ) -> None:
        """Ask every host for its progress (5 s at most) and publish the sum; a host that fails is said once."""
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*(awaited(h.progress.remote()) for h in hosts), return_exceptions=True), 5.0
            )
        except TimeoutError:
            return
        # A failed host is reported when its run ends; the live view goes on with the others.
        for host, answer in zip(hosts, answers, strict=True):
            if isinstance(answer, BaseException) and host not in self._unanswered:
                self._unanswered.add(host)
                log.warning("a peer host did not report its progress (not shown again for it): %r", answer)
        progress: list[HostProgress] = [a for a in answers if isinstance(a, HostProgress)]
        connections = [c for p in progress for c in p.connections]
        outcome.rejected = max(outcome.rejected, sum(p.rejected for p in progress))
        elapsed = time.monotonic() - started_at if started_at is not None else 0.0
        self.publish(
            RunSnapshot(
                "running" if started_at is not None else "waiting for the start signal",
                self.last.peers,
                sum(p.ready for p in progress),
                len(outcome.missing),
                len({p.node_id for p in progress}),
                elapsed,
                self.last.duration,
                sum(p.originated_per_second for p in progress),
                sum(p.received_per_second for p in progress),
                sum(connections) / len(connections) if connections else 0.0,
                min(connections, default=0),
                max((p.tick_lag_p99_ms for p in progress), default=0.0),
                max((p.cpu_percent for p in progress), default=0.0),
                sum(p.datapoints for p in progress),
                sum(p.routine_errors for p in progress),
                outcome.rejected,
                len(outcome.lost),
                outcome.log_dir or "",
                sum(p.harness_errors for p in progress),
                self.last.live_url,
                self.last.live_hint,
                relay,
                layers=self.last.layers,
                host_windows=tuple(p.window_fields for p in progress if p.window_fields),
                target=self._stages.target_at(elapsed) if self._stages is not None and started_at is not None else None,
            )
        )
