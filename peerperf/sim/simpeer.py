"""A simulated peer: a library `Peer` driven by a routine, as the original perf-test client drove it."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from peerperf.peer import Peer
from peerperf.protocol.messagetypes import reliable as reliable_type
from peerperf.protocol.messagetypes import unreliable
from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.positions import Position
from peerperf.protocol.wallclock import now_ms
from peerperf.sim.api import Routine
from peerperf.sim.payloads import chat_message, decoded_position, position_message, profile_message
from peerperf.sim.periodic import Every
from peerperf.sim.phases import routine_timer
from peerperf.sim.roomset import RoomSet

log = logging.getLogger(__name__)

POSITION = unreliable("position")
PROFILE = unreliable("profile")
CHAT = reliable_type("chat")


class SimulatedPeer:
    """Implements `RoutinePeer` for one peer; the host's tick loop calls `tick`."""

    def __init__(
        self,
        peer: Peer,
        routine: Routine,
        routine_name: str,
        room: str,
        start_offset: float,
        clock: Callable[[], float] | None = None,
        phase: Callable[[str], float] | None = None,
        params: dict[str, str] | None = None,
        run_rooms: tuple[str, ...] = (),
    ) -> None:
        self._peer = peer
        self._routine = routine
        self.routine_name = routine_name
        self.room = room
        self.state: dict[str, Any] = {}
        self.params = dict(params or {})
        self.run_rooms = run_rooms or (room,)
        #: The rooms as the routine asked (the host joins `room` before the routine runs).
        self.room_set = RoomSet({room})
        self.start_offset = start_offset
        #: Now in ms on the run's reference clock, stamped on app messages (see `peerperf.sim.clock`).
        self._clock = clock or now_ms
        self.started_at: float | None = None
        self.routine_errors = 0
        self._timers: dict[str, Every] = {}
        #: Timer key -> its phase in [0, 1): an `every()` timer first fires at phase x period of routine
        #: time (None: one period in, as the original's).
        self._phase = phase
        self._last_error: str | None = None
        #: How long joining the lighthouse took (connect and validate, layer, room), until reported.
        self.join_ms: float | None = None

    @property
    def id(self) -> str:
        return self._peer.id

    @property
    def peer(self) -> Peer:
        return self._peer

    # ---- RoutinePeer ----------------------------------------------------------------------------

    @property
    def position(self) -> Position:
        x, y, z = [*self._peer.position, 0.0, 0.0, 0.0][:3]
        return (x, y, z)

    def move_to(self, position: Position) -> None:
        self._peer.position = tuple(float(v) for v in position)

    @property
    def connections(self) -> list[str]:
        return self._peer.connected_ids()

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(self.room_set.rooms)

    def join_room(self, name: str) -> None:
        self.room_set.join(name)
        self._peer.join_room_soon(name)

    def leave_room(self, name: str) -> None:
        self.room_set.leave(name)
        self._peer.leave_room_soon(name)

    def send_position(self) -> None:
        self._peer.send_message(self.room, position_message(self.position, sent_at=self._clock()), POSITION)

    def send_profile(self) -> None:
        self._peer.send_message(self.room, profile_message(self.id, sent_at=self._clock()), PROFILE)

    def send_chat(self, text: str | None = None) -> None:
        self._peer.send_message(self.room, chat_message(text, sent_at=self._clock()), CHAT)

    def send(self, payload: Payload, *, subtype: str, reliable: bool, room: str | None = None) -> None:
        message_type = reliable_type(subtype) if reliable else unreliable(subtype)
        self._peer.send_message(room or self.room, payload, message_type)

    def every(self, period: float, key: str | None = None) -> Callable[[float], int]:
        key = key or f"every:{period}"
        timer = self._timers.get(key)
        if timer is None:
            first = None if self._phase is None else self._phase(key) * period
            timer = self._timers[key] = Every(period, first)
        return timer.due

    def timer_phases(self) -> dict[str, float]:
        """The phases of the peer library's timers and of the routine timers used so far, by timer name."""
        routine = {} if self._phase is None else {routine_timer(key): self._phase(key) for key in self._timers}
        return {**self._peer.phases.as_dict(), **routine}

    # ---- driven by the host -------------------------------------------------------------------

    def tick(self, now: float, delta: float) -> None:
        """One 60 Hz tick: after the start offset, call the routine with this peer's routine time."""
        if self.started_at is None:
            return
        elapsed = now - self.started_at
        if elapsed < 0:
            return
        try:
            self._routine(elapsed, delta, self)
        except Exception as exc:  # a broken routine must not stop the others on this host
            self.routine_errors += 1
            if repr(exc) != self._last_error:
                self._last_error = repr(exc)
                log.exception("routine %s of peer %s failed", self.routine_name, self.id)

    def start(self, now: float) -> None:
        self.started_at = now + self.start_offset

    def on_message(self, src: str, room: str, payload: Payload, packet: Packet) -> None:
        """As the original client: positions received drive whom this peer connects to."""
        if packet.subtype == "position" and isinstance(payload, bytes):
            self._peer.set_peer_position_message(src, payload, decoded_position)


def start_offset(rng: random.Random, max_offset: float = 3.0) -> float:
    """The original's random 0-3 s delay before a peer's first tick, de-synchronising peers."""
    return rng.uniform(0.0, max_offset)
