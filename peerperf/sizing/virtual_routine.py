"""A routine driving a simulated peer: the `RoutinePeer` a real routine sees, over a `VirtualPeer`'s mesh.

The messages are the ones `SimulatedPeer` sends (same payload builders and message types, so packets
have the run's sizes and relay metadata), stamped on the virtual wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from peerperf.protocol.messagetypes import reliable as reliable_type
from peerperf.protocol.messagetypes import unreliable
from peerperf.protocol.packets import Payload
from peerperf.protocol.positions import Position
from peerperf.sim.api import Routine
from peerperf.sim.payloads import chat_message, position_message, profile_message
from peerperf.sim.periodic import Every
from peerperf.sim.roomset import RoomSet
from peerperf.sim.simpeer import CHAT, POSITION, PROFILE
from peerperf.sizing.virtual_peer import VirtualPeer


class VirtualRoutinePeer:
    """Implements `RoutinePeer` for one simulated peer; the layer's tick calls `tick`."""

    def __init__(self, peer: VirtualPeer, routine: Routine, wall_ms: Callable[[], float], started_at: float) -> None:
        self._peer = peer
        self._routine = routine
        self._wall_ms = wall_ms
        self.started_at = started_at
        self.room = peer.room
        self.params: dict[str, str] = {}
        self.run_rooms: tuple[str, ...] = (peer.room,)
        self._rooms = RoomSet({peer.room})
        self.state: dict[str, Any] = {}
        self._timers: dict[str, Every] = {}

    @property
    def id(self) -> str:
        return self._peer.id

    @property
    def position(self) -> Position:
        x, y, z = [*self._peer.position, 0.0, 0.0, 0.0][:3]
        return (x, y, z)

    def move_to(self, position: Position) -> None:
        self._peer.position = tuple(float(v) for v in position)

    @property
    def connections(self) -> list[str]:
        return list(self._peer.connections.connected_ids())

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(self._rooms.rooms)

    def join_room(self, name: str) -> None:
        """Only recorded: a sizing layer's peers deliver to their own room."""
        self._rooms.join(name)

    def leave_room(self, name: str) -> None:
        self._rooms.leave(name)

    def send_position(self) -> None:
        self._peer.mesh.send_message(self.room, position_message(self.position, sent_at=self._wall_ms()), POSITION)

    def send_profile(self) -> None:
        self._peer.mesh.send_message(self.room, profile_message(self.id, sent_at=self._wall_ms()), PROFILE)

    def send_chat(self, text: str | None = None) -> None:
        self._peer.mesh.send_message(self.room, chat_message(text, sent_at=self._wall_ms()), CHAT)

    def send(self, payload: Payload, *, subtype: str, reliable: bool, room: str | None = None) -> None:
        message_type = reliable_type(subtype) if reliable else unreliable(subtype)
        self._peer.mesh.send_message(room or self.room, payload, message_type)

    def every(self, period: float, key: str | None = None) -> Callable[[float], int]:
        timer = self._timers.setdefault(key or f"every:{period}", Every(period))
        return timer.due

    def tick(self, now: float, delta: float) -> None:
        """One 60 Hz tick: the routine with this peer's routine time, once its start offset has passed."""
        elapsed = now - self.started_at
        if elapsed >= 0:
            self._routine(elapsed, delta, self)
