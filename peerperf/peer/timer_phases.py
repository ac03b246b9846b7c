"""When a peer's periodic timers first fire: one phase per timer, so peers started together do not tick together.

The original library started each timer one period after the peer, so peers created in the same
instant (a load test's start barrier joins them all at once) ran their ping rounds, heartbeats and
network updates in lockstep: every ping round of a room at once is a burst of floods that stalls
the hosts that carry them. A phase in [0, 1) moves a timer's first firing to `phase x period` after
the peer connected; the period itself is unchanged. Who chooses the phases (and how) is the caller's
business: `peerperf.sim.phases` draws them from the run's seed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TimerPhases:
    """Each timer's phase in [0, 1) of its period; None keeps the original's first firing."""

    #: Ping rounds, period `ping_interval + ping_timeout` (unset: the first round `ping_interval` in).
    ping: float | None = None
    #: HEARTBEAT frames to the lighthouse, period `heartbeat_interval`.
    heartbeat: float | None = None
    #: The connection policy's periodic re-evaluation, period `network_update_interval`.
    network_update: float | None = None
    #: Forgetting expired packet ids, relay data and silent known peers, period `expiration_loop_interval`.
    housekeeping: float | None = None
    #: Heartbeats that ask for connection hints, period `optimize_network_interval`.
    hint_request: float | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None and not 0 <= value < 1:
                raise ValueError(f"timer phase {field.name} must be in [0, 1), got {value}")

    def as_dict(self) -> dict[str, float]:
        """The phases that are set, by timer name (what a run records)."""
        return {field.name: value for field in fields(self) if (value := getattr(self, field.name)) is not None}


def first_firing(phase: float | None, period: float, unset: float | None = None) -> float:
    """Seconds from start to a timer's first firing: `phase x period`; without a phase the original's,
    `unset` (default: one period)."""
    if phase is not None:
        return phase * period
    return period if unset is None else unset
