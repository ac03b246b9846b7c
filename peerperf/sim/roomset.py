"""The rooms a routine's peer is in, as the routine asked: one rule for every `RoutinePeer`.

Joining a room the peer is in, or leaving one it is not in, is a routine's mistake: it raises
`PeerStateError` naming the room and the peer's rooms (counted as a routine error and logged with the
peer's id; nothing else changes).
Each accepted join or leave counts as a move, reported per window (`roomMoves`): the analysis leaves
a receiver's windows around a move out of delivery to rooms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peerperf.errors import PeerStateError


@dataclass
class RoomSet:
    """One peer's rooms and the moves since they were last taken."""

    rooms: set[str] = field(default_factory=set)
    moves: int = 0

    def join(self, name: str) -> None:
        if name in self.rooms:
            raise PeerStateError(f"already in room {name!r} (its rooms: {sorted(self.rooms)})")
        self.rooms.add(name)
        self.moves += 1

    def leave(self, name: str) -> None:
        if name not in self.rooms:
            raise PeerStateError(f"not in room {name!r} (its rooms: {sorted(self.rooms)})")
        self.rooms.discard(name)
        self.moves += 1

    def take_moves(self) -> int:
        """Moves since the last call (a window's `roomMoves`)."""
        moves, self.moves = self.moves, 0
        return moves
