"""What a routine sees: `routine(elapsed, delta, peer)` with `peer` a `RoutinePeer`.

Routines never see aiortc, aiohttp or Ray. Times are seconds: `elapsed` since this peer's routine
started (after its random start offset), `delta` since its previous tick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from peerperf.protocol.positions import Position


class RoutinePeer(Protocol):
    """The peer-facing API of one simulated peer."""

    #: The room its messages go to by default (a routine that moves sets it to the room it joined).
    room: str
    #: Per-peer scratch space for the routine (timers, targets, anything).
    state: dict[str, Any]
    #: The routine's parameters from its name (`roam?period=2-4` -> {"period": "2-4"}).
    params: dict[str, str]
    #: Every room of the run (in the order the run made them), for routines that move between them.
    run_rooms: tuple[str, ...]

    @property
    def id(self) -> str:
        """This peer's id."""

    @property
    def position(self) -> Position: ...

    def move_to(self, position: Position) -> None:
        """Set this peer's position (what its heartbeats and position messages report)."""

    @property
    def connections(self) -> list[str]:
        """Ids of the peers this one has an open data channel with."""

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this peer is in now (as it asked: a join counts at once, as the original's `joinRoom`)."""

    def join_room(self, name: str) -> None:
        """The original's `joinRoom`: packets to `name` are delivered from now on; the lighthouse call runs in
        the background. Connections stay (the mesh is the layer's). `PeerStateError` if already in it."""

    def leave_room(self, name: str) -> None:
        """The original's `leaveRoom`: packets to `name` are no longer delivered (still relayed); connections
        stay. `PeerStateError` if not in it."""

    def send_position(self) -> None:
        """The original's position message, `unreliable("position")`."""

    def send_profile(self) -> None:
        """The original's profile message, `unreliable("profile")`."""

    def send_chat(self, text: str | None = None) -> None:
        """The original's chat message, `reliable("chat")` (random 40-character text by default)."""

    def send(self, payload: bytes | str | Any, *, subtype: str, reliable: bool, room: str | None = None) -> None:
        """Any payload: bytes, text or a JSON-able value, to `room` (default: this peer's room)."""

    def every(self, period: float, key: str | None = None) -> Callable[[float], int]:
        """A non-drifting timer kept per peer (by `key`, default the period): call it with `elapsed`;
        it returns how many periods fell due since the last call. The first falls due at the timer's
        phase (`peerperf.sim.phases`), so peers' timers are not aligned."""


Routine = Callable[[float, float, RoutinePeer], None]
