"""What a mesh is plugged into: the links it sends on, the clocks it reads, where delivered messages go.

Seams, not WebRTC: `peerperf.peer.connections` is the real `Links`, a test's fake or `peerperf.sizing`'s
virtual layer another; `MeshClock` lets a simulation run the same relay rules in virtual time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.wallclock import now_ms

#: Called for each packet delivered to a joined room: (src, room, payload, packet).
MessageHandler = Callable[[str, str, Payload, Packet], None]
#: When the sender sent an app message, in wall-clock ms: by default the packet's timestamp; an
#: application whose payload carries a finer send time (the perf client's CommsMessage.time) reads it.
SendTime = Callable[[Payload, Packet], float]


def packet_send_time(payload: Payload, packet: Packet) -> float:
    return float(packet.timestamp)


@dataclass(frozen=True)
class MeshClock:
    """Where a mesh reads the time, so a simulation can run the same relay rules in virtual time."""

    #: Seconds for local deadlines: duplicate records, relay suspensions and paths, ping rounds.
    monotonic: Callable[[], float] = time.monotonic
    #: Wall-clock ms: the timestamps packets carry (whole ms on the wire) and the latency of deliveries.
    wall_ms: Callable[[], float] = now_ms


#: The real clocks (every peer's).
SYSTEM_CLOCK = MeshClock()


class Links(Protocol):
    """The data channels a mesh sends on."""

    def connected_ids(self) -> Sequence[str]:
        """The peers with an open channel (read per packet: implementations keep it ready, not rebuilt)."""
        ...

    def send(self, peer_id: str, data: bytes) -> None: ...
