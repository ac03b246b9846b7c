"""Packets per peer in a layer of any size, from the real mesh code in virtual time.

`simulate()` builds a layer of `layer_size` peers as a run would (ids, rooms, routines and start
positions from `plan_peers`), lets them join at once as the start barrier does, forms the mesh with
the real connection policy, runs the routine from a test start with the run's random offsets, and
counts what every peer's real `Mesh` received, sent and relayed over the steady state (after the
same warm-up the analysis drops). Copies per unique packet come out of the relay rules themselves:
nothing here knows how many there should be.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.sim.host_config import PeerSpec
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import load_routine, parse_mix
from peerperf.sizing.virtual_layer import BudgetExceeded, NetworkModel, VirtualLayer
from peerperf.sizing.virtual_peer import VirtualPeer
from peerperf.sizing.virtual_routine import VirtualRoutinePeer

#: The routine's tick rate (the hosts' tick loop).
TICK_HZ = 60.0


@dataclass(frozen=True)
class SimulationSettings:
    """One simulated layer. Times are virtual seconds."""

    layer_size: int
    #: Routine name, `module:function`, or a weighted mix, as `--routine`.
    routine: str = "default"
    peer: PeerSettings = field(default_factory=PeerSettings)
    #: Spread the layer's peers over rooms of this many (None: one room, as `--room-size`).
    room_size: int | None = None
    #: From the test's start to its end.
    duration: float = 20.0
    #: Measured from the start: the analysis's warm-up (routines start at random offsets of up to 3 s).
    warmup: float = 4.0
    #: Peers join within this span (the start barrier joins them together), the test starts after it.
    join_spread: float = 0.5
    start_after: float = 2.0
    #: The hosts' random routine start offsets are uniform in [0, this).
    max_start_offset: float = 3.0
    peer_id_length: int = 42
    network: NetworkModel = field(default_factory=NetworkModel)
    seed: int = 1
    #: Most frames handed to meshes before the simulation stops (its cost grows with copies per packet).
    max_receives: int = 20_000_000
    #: Most seconds of this machine's time the simulation may take (None: no limit): a routine that burns
    #: CPU on purpose (`busy`) must not hold a run's placement check up.
    wall_seconds: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.layer_size < 2:
            problems.append(f"a layer needs at least 2 peers, got {self.layer_size}")
        if self.duration <= self.warmup:
            problems.append(f"the duration ({self.duration} s) must be longer than the warm-up ({self.warmup} s)")
        if self.max_receives < 1:
            problems.append("max_receives must be positive")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass(frozen=True)
class PeerRates:
    """Per peer per second, the mean over the layer's peers during the steady state."""

    received: float
    sent: float
    relayed: float
    originated: float
    #: First arrivals of other peers' packets.
    unique: float
    duplicates: float
    expired: float
    received_bytes: float

    @property
    def copies_per_unique(self) -> float:
        """Packets received for each packet seen for the first time (1 would be a perfect flood)."""
        return self.received / self.unique if self.unique else float("nan")


@dataclass(frozen=True)
class SimulationResult:
    """What a simulated layer's peers did, and how long the simulation took."""

    layer_size: int
    rates: PeerRates
    connections: float
    #: Virtual seconds the rates were measured over (shorter than asked when the budget stopped it).
    measured_seconds: float
    #: False when `max_receives` or `wall_seconds` stopped the run: the rates then cover only part of the steady state,
    #: or none of it (`measured_seconds` 0: the rates are what the warm-up reached, a lower bound).
    complete: bool
    receives: int
    cpu_seconds: float


@dataclass
class _Counters:
    received: int = 0
    sent: int = 0
    relayed: int = 0
    originated: int = 0
    unique: int = 0
    duplicates: int = 0
    expired: int = 0
    received_bytes: int = 0


def _count(peers: list[VirtualPeer]) -> _Counters:
    out = _Counters()
    for peer in peers:
        categories = peer.stats.categories
        out.received += categories["received"].total_packets
        out.received_bytes += categories["received"].total_bytes
        out.sent += categories["sent"].total_packets
        out.relayed += categories["relayed"].total_packets
        out.originated += categories["originated"].total_packets
        out.duplicates += categories["duplicate"].total_packets if "duplicate" in categories else 0
        out.expired += categories["expired"].total_packets if "expired" in categories else 0
        out.unique += peer.mesh.measures.delivery.window.unique
    return out


def simulate(settings: SimulationSettings) -> SimulationResult:
    """Run one layer in virtual time and measure its steady state (the same seed, the same result)."""
    with seeded_globals(settings.seed):
        return _simulate(settings)


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """The peer library draws instance and ping ids from the `random` module (their varint sizes change packet
    sizes): seed it for a simulation, and give the process its own state back afterwards."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def plan_layer(settings: SimulationSettings, rng: random.Random) -> list[PeerSpec]:
    """The layer's peers (ids, rooms, routines, start positions) as a run of `settings` would plan them."""
    population = Population(
        settings.layer_size,
        parse_mix(settings.routine),
        room_size=settings.room_size,
        peer_id_length=settings.peer_id_length,
    )
    return plan_peers(population, rng)


def _simulate(settings: SimulationSettings) -> SimulationResult:
    started_cpu = time.process_time()
    rng = random.Random(settings.seed)
    specs = plan_layer(settings, rng)
    layer = VirtualLayer(settings.peer, settings.network, rng, settings.max_receives)
    queue = layer.queue
    peers = [VirtualPeer(s.peer_id, s.position, s.room, settings.peer, layer, rng) for s in specs]
    for peer in peers:
        layer.add(peer)
    for peer in peers:
        joined = rng.uniform(0.0, settings.join_spread)
        queue.at(joined, layer.start_loops, peer)
        queue.at(joined, layer.join, peer)
    start = settings.join_spread + settings.start_after
    wall_ms = queue.mesh_clock().wall_ms
    routines = [
        VirtualRoutinePeer(peer, load_routine(spec.routine), wall_ms, start + rng.uniform(0, settings.max_start_offset))
        for peer, spec in zip(peers, specs, strict=True)
    ]
    period = 1 / TICK_HZ

    deadline = None if settings.wall_seconds is None else time.monotonic() + settings.wall_seconds

    def tick() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise BudgetExceeded(f"more than {settings.wall_seconds} s of this machine's time")
        for routine in routines:
            routine.tick(queue.now, period)

    queue.every(period, tick, first=start)
    begin, end = start + settings.warmup, start + settings.duration
    connections: list[float] = []
    queue.every(1.0, lambda: connections.append(_mean_connections(peers)), first=begin)
    complete = True
    before = _Counters()
    try:
        queue.run_until(begin)
        before = _count(peers)
        queue.run_until(end)
    except BudgetExceeded:
        complete = False
    measured = max(0.0, queue.now - begin)
    after = _count(peers)
    span = measured if measured > 0 else max(queue.now, 1e-9)
    base = before if measured > 0 else _Counters()
    n = len(peers) * span
    rates = PeerRates(
        (after.received - base.received) / n,
        (after.sent - base.sent) / n,
        (after.relayed - base.relayed) / n,
        (after.originated - base.originated) / n,
        (after.unique - base.unique) / n,
        (after.duplicates - base.duplicates) / n,
        (after.expired - base.expired) / n,
        (after.received_bytes - base.received_bytes) / n,
    )
    return SimulationResult(
        settings.layer_size,
        rates,
        sum(connections) / len(connections) if connections else _mean_connections(peers),
        measured,
        complete,
        layer.receives,
        time.process_time() - started_cpu,
    )


def _mean_connections(peers: list[VirtualPeer]) -> float:
    return sum(len(p.connections.connected_ids()) for p in peers) / len(peers)
