"""What a peer host is given: the settings every host of a run shares, and each simulated peer to create.

Plain data, apart from `peerperf.sim.host` (which runs the peers): the population, the stage plan, the
impairment plan and the cluster's placement build and pass these without importing the peer library.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.peer.impairment_profile import PeerImpairment
from peerperf.peer.settings import PeerSettings
from peerperf.sim.stages import StagePlan


@dataclass(frozen=True)
class PeerSpec:
    """One simulated peer to create: its stable index, id, routine and place in the mesh."""

    index: int
    peer_id: str
    routine: str
    layer: str
    room: str
    position: tuple[float, float, float]
    #: The network this peer runs behind (None: unimpaired loopback).
    impairment: PeerImpairment | None = None


@dataclass(frozen=True)
class HostConfig:
    """What every host of a run shares."""

    host_id: str
    lighthouse_url: str
    peer_settings: PeerSettings
    #: Seconds between datapoints (the original's statsSubmitInterval, 2 s).
    stats_interval: float = 2.0
    tick_hz: float = 60.0
    max_start_offset: float = 3.0
    node_id: str = ""
    #: Seeds this host's start offsets.
    seed: int | None = None
    #: Seeds every timer phase (`peerperf.sim.phases`); one value for all hosts of a run, so their
    #: peers are spread together. None: `seed`.
    timer_seed: int | None = None
    #: Who is active when (`--stages`); None: every peer for the whole test.
    stages: StagePlan | None = None
    #: Every room of the run, for routines that move between them (none given: each peer's own room).
    rooms: tuple[str, ...] = ()
