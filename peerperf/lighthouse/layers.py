"""Layers and rooms (reference 1.4): membership state and the notifications it owes.

Pure logic: no sockets. Every change reports who must be told what through `notify`, so the
membership rules are testable without a network and the capacity check and the join happen in one
synchronous step (no await between them, hence no capacity race).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from peerperf.errors import RequestError
from peerperf.protocol.signaling_frames import NOTIFICATION_SOURCE, Frame, FrameType, MembershipPayload

#: Sends `frame` to the connected peer `recipient` (dropped when it is gone).
Notify = Callable[[str, Frame], object]


@dataclass
class Room:
    """A named group of layer members; data is only delivered to members of its room."""

    id: str
    peers: list[str] = field(default_factory=list)


@dataclass
class Layer:
    """A partition of the mesh: peers only connect to peers of their own layer."""

    id: str
    max_peers: int
    peers: list[str] = field(default_factory=list)
    rooms: dict[str, Room] = field(default_factory=dict)


class Layers:
    """All layers of one lighthouse; a peer is in at most one layer."""

    def __init__(self, default_layers: tuple[str, ...], max_per_layer: int, notify: Notify) -> None:
        self._defaults = frozenset(default_layers)
        self._max = max_per_layer
        self._notify = notify
        self._layers: dict[str, Layer] = {name: Layer(name, max_per_layer) for name in default_layers}

    def all(self) -> list[Layer]:
        return list(self._layers.values())

    def get(self, layer_id: str) -> Layer:
        layer = self._layers.get(layer_id)
        if layer is None:
            raise RequestError(404, "layer-not-found", f"Layer '{layer_id}' does not exist")
        return layer

    def room(self, layer_id: str, room_id: str) -> Room:
        room = self.get(layer_id).rooms.get(room_id)
        if room is None:
            raise RequestError(404, "room-not-found", f"Room '{room_id}' does not exist in layer '{layer_id}'")
        return room

    def layer_of(self, peer_id: str) -> Layer | None:
        return next((layer for layer in self._layers.values() if peer_id in layer.peers), None)

    def join_layer(self, layer_id: str, peer_id: str) -> Layer:
        """Put `peer_id` in the layer (created on demand), leaving any other layer first."""
        layer = self._layers.get(layer_id) or Layer(layer_id, self._max)
        if peer_id in layer.peers:
            return layer
        if len(layer.peers) >= layer.max_peers:
            raise RequestError(
                400,
                "layer_is_full",
                f"User '{peer_id}' cannot join layer '{layer_id}' because it is full (max: {layer.max_peers})",
            )
        self._layers[layer_id] = layer
        current = self.layer_of(peer_id)
        if current is not None:
            self.leave_layer(current.id, peer_id)
        self._broadcast(layer.peers, FrameType.PEER_JOINED_LAYER, MembershipPayload(peer_id, layer_id))
        layer.peers.append(peer_id)
        return layer

    def leave_layer(self, layer_id: str, peer_id: str) -> Layer:
        """Take `peer_id` out of the layer and its rooms; empty non-default layers disappear."""
        layer = self.get(layer_id)
        for room_id in [r.id for r in layer.rooms.values() if peer_id in r.peers]:
            self.leave_room(layer_id, room_id, peer_id)
        if peer_id in layer.peers:
            layer.peers.remove(peer_id)
            self._broadcast(layer.peers, FrameType.PEER_LEFT_LAYER, MembershipPayload(peer_id, layer_id))
        if not layer.peers and layer_id not in self._defaults:
            del self._layers[layer_id]
        return layer

    def join_room(self, layer_id: str, room_id: str, peer_id: str) -> Room:
        """Put a layer member in a room (created on demand; rooms have no size limit)."""
        layer = self.get(layer_id)
        if peer_id not in layer.peers:
            raise RequestError(
                400, "user_not_in_layer", f"User '{peer_id}' must be in layer '{layer_id}' to join a room"
            )
        room = layer.rooms.setdefault(room_id, Room(room_id))
        if peer_id not in room.peers:
            self._broadcast(room.peers, FrameType.PEER_JOINED_ROOM, MembershipPayload(peer_id, layer_id, room_id))
            room.peers.append(peer_id)
        return room

    def leave_room(self, layer_id: str, room_id: str, peer_id: str) -> list[str]:
        """Take `peer_id` out of the room; returns who remains (an empty room disappears)."""
        layer = self.get(layer_id)
        room = layer.rooms.get(room_id)
        if room is None:
            return []
        if peer_id in room.peers:
            room.peers.remove(peer_id)
            self._broadcast(room.peers, FrameType.PEER_LEFT_ROOM, MembershipPayload(peer_id, layer_id, room_id))
        if not room.peers:
            del layer.rooms[room_id]
        return list(room.peers)

    def remove_peer(self, peer_id: str) -> None:
        """A peer disconnected: leave its layer and rooms, telling the others."""
        layer = self.layer_of(peer_id)
        if layer is not None:
            self.leave_layer(layer.id, peer_id)

    def _broadcast(self, recipients: list[str], frame_type: FrameType, payload: MembershipPayload) -> None:
        for recipient in list(recipients):
            self._notify(recipient, Frame(frame_type, NOTIFICATION_SOURCE, recipient, payload))
