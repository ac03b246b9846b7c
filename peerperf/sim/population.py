"""Who the simulated peers are: ids, routines, rooms, start positions, and which host runs them."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from peerperf.protocol.ids import random_id
from peerperf.sim.host_config import PeerSpec
from peerperf.sim.routines import RoutineChoice, assign

#: The original placed peers uniformly in [-32, 32] on x and z (two parcels each way), y = 0.
START_AREA = 32.0


@dataclass(frozen=True)
class Population:
    peers: int
    routines: list[RoutineChoice]
    layer: str = "blue"
    room: str = "room"
    #: Spread peers over rooms of this many; None puts everyone in `room`.
    room_size: int | None = None
    peer_id_length: int = 42
    #: Peers per layer: more peers than this fill `layer-1`, `layer-2`, ... in turn (the last may hold fewer),
    #: as a full layer sends users to another; None (or enough room) puts everyone in `layer`.
    layer_size: int | None = None

    def layer_of(self, index: int) -> str:
        if self.layer_size is None or self.peers <= self.layer_size:
            return self.layer
        return f"{self.layer}-{index // self.layer_size + 1}"

    def layer_sizes(self) -> list[int]:
        """How many peers each layer holds, in layer order."""
        if self.layer_size is None or self.peers <= self.layer_size:
            return [self.peers]
        full, rest = divmod(self.peers, self.layer_size)
        return [self.layer_size] * full + ([rest] if rest else [])

    def describe_layers(self) -> str:
        """'1 layer of 8', '20 layers of 50', '3 layers of 50 (the last 20)': what the live view and summary say."""
        sizes = self.layer_sizes()
        text = f"{len(sizes)} layer{'s' if len(sizes) > 1 else ''} of {sizes[0]}"
        return text + (f" (the last {sizes[-1]})" if sizes[-1] != sizes[0] else "")

    def room_of(self, index: int) -> str:
        if self.room_size is None:
            return self.room
        return f"{self.room}-{index // self.room_size + 1}"

    def rooms(self) -> list[str]:
        if self.room_size is None:
            return [self.room]
        return [f"{self.room}-{i + 1}" for i in range(math.ceil(self.peers / self.room_size))]


def plan_peers(population: Population, rng: random.Random) -> list[PeerSpec]:
    """One spec per peer, with a stable index (role assignment) and a random self-assigned id."""
    names = assign(population.routines, population.peers)
    ids: set[str] = set()
    specs = []
    for index in range(population.peers):
        peer_id = random_id(population.peer_id_length, rng)
        while peer_id in ids:
            peer_id = random_id(population.peer_id_length, rng)
        ids.add(peer_id)
        position = (rng.uniform(-START_AREA, START_AREA), 0.0, rng.uniform(-START_AREA, START_AREA))
        specs.append(
            PeerSpec(index, peer_id, names[index], population.layer_of(index), population.room_of(index), position)
        )
    return specs


def group(specs: list[PeerSpec], per_host: int) -> list[list[PeerSpec]]:
    """Split peers into hosts of `per_host` (the last may be smaller)."""
    return [specs[i : i + per_host] for i in range(0, len(specs), per_host)]
