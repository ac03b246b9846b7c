"""What a peer host reports about itself: who joined at setup, its progress for the live view, and its own
figures (tick lag, load, clock, stage) on each of its peers' datapoints of a window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peerperf.protocol.histogram import Histogram
from peerperf.protocol.metrics import PYTHON
from peerperf.sim.clock import ClockOffset
from peerperf.sim.host_config import HostConfig
from peerperf.sim.hostload import LoadSample
from peerperf.sim.simpeer import SimulatedPeer
from peerperf.sim.tickloop import LagWindow


@dataclass(frozen=True)
class SetupReport:
    host_id: str
    node_id: str
    ready: list[str]
    #: Peer id -> why it could not connect or join.
    failed: dict[str, str]
    #: Peers that join later in the test (`--stages`): the host is ready for them too.
    deferred: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HostProgress:
    """A cheap snapshot for the live view."""

    host_id: str
    node_id: str
    peers: int
    ready: int
    running: bool
    connections: list[int]
    originated_per_second: float
    received_per_second: float
    tick_lag_p99_ms: float
    ticks_missed: int
    cpu_percent: float
    datapoints: int
    rejected: int
    routine_errors: int
    #: Unexpected exceptions in the host's and its peers' background work (logged in the host's log).
    harness_errors: int = 0
    #: The host's fields of its last closed window (datapoint schema), with its peers' `receivedBySubtype`
    #: summed and when it closed (`timestamp`, ms): the live view's harness verdict reads them.
    window_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class LastWindow:
    """The host-level figures of the last closed stats window."""

    lag: LagWindow = field(default_factory=lambda: LagWindow(0, 0, 0, 0, 0))
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    originated_per_second: float = 0.0
    received_per_second: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)


def host_progress(
    config: HostConfig,
    peers: int,
    sims: list[SimulatedPeer],
    running: bool,
    window: LastWindow,
    totals: tuple[int, int, int],
) -> HostProgress:
    """The live view's snapshot; `totals` are the host's datapoints, refusals and own harness errors so far."""
    datapoints, rejected, harness_errors = totals
    return HostProgress(
        config.host_id,
        config.node_id,
        peers,
        len(sims),
        running,
        [len(s.peer.connected_ids()) for s in sims],
        window.originated_per_second,
        window.received_per_second,
        window.lag.p99,
        window.lag.missed,
        window.cpu_percent,
        datapoints,
        rejected,
        sum(s.routine_errors for s in sims),
        harness_errors + sum(s.peer.supervisor.errors for s in sims),
        dict(window.fields),
    )


def host_fields(
    config: HostConfig, window: int, lag: LagWindow, load: LoadSample, clock: ClockOffset | None
) -> dict[str, Any]:
    """The host's own evidence, the same on each of its peers' datapoints of this window."""
    fields: dict[str, Any] = {
        "kind": PYTHON,  # stored as sent on any results server, the original's too
        "window": window,
        "tickLagP50": lag.p50,
        "tickLagP99": lag.p99,
        "tickLagMax": lag.max,
        "ticksMissed": lag.missed,
        "tickLagMs": lag.histogram,
        "hostCpuPercent": load.cpu_percent,
        "hostMemoryMb": load.rss_mb,
        "hostOpenFds": load.open_fds,
        "machineCpuPercent": load.machine_cpu_percent,
        "machineCpus": load.machine_cpus,
        "machineLoad1": load.load1,
        "nodeId": config.node_id,
        "hostId": config.host_id,
        **stage_fields(config, window),
        "clockOffsetMs": clock.offset_ms if clock else None,
        "clockErrorMs": clock.error_ms if clock else None,
    }
    return {key: value for key, value in fields.items() if value is not None}


def stage_fields(config: HostConfig, window: int) -> dict[str, Any]:
    """With `--stages`: the stage `window` closed in, and the target of active peers then."""
    plan = config.stages
    if plan is None or not plan.explicit:
        return {}
    closed = window * config.stats_interval
    return {"stage": plan.stage_at(closed), "stageTarget": round(plan.target_at(closed), 3)}


def one_value(value: float) -> list[int]:
    """A histogram of one value (the wire's encoding)."""
    histogram = Histogram()
    histogram.record(value)
    return histogram.encode()
