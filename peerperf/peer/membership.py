"""Which layer and rooms a peer is in, and who else is, as the lighthouse tells it (reference 2.1, 2.3).

Members the lighthouse reports become known peers (with their positions when it has them); the
rooms' member lists feed the connection policy, which prefers room mates.
"""

from __future__ import annotations

import logging
from typing import Any

from peerperf.errors import PeerStateError
from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.lighthouse_client import LighthouseClient
from peerperf.protocol.signaling_frames import PROTOCOL_VERSION, FrameType, MembershipPayload

log = logging.getLogger(__name__)


class Membership:
    """One peer's layer and rooms."""

    def __init__(self, client: LighthouseClient, known: KnownPeers) -> None:
        self._client = client
        self._known = known
        self.layer: str | None = None
        self.rooms: set[str] = set()
        #: Room -> the other peers in it.
        self.room_members: dict[str, set[str]] = {}

    @property
    def _id(self) -> str:
        assert self._client.peer_id is not None, "connect() first"
        return self._client.peer_id

    def room_mates(self) -> frozenset[str]:
        """Every other peer sharing a room with this one."""
        return frozenset().union(*self.room_members.values()) if self.room_members else frozenset()

    def leave_layer(self) -> None:
        """Forget the layer's rooms and peers (the lighthouse drops us from a layer when we join another)."""
        self.rooms.clear()
        self.room_members.clear()
        self._known.clear()

    async def join_layer(self, layer: str) -> None:
        body = {"id": self._id, "userId": self._id, "peerId": self._id, "protocolVersion": PROTOCOL_VERSION}
        users = await self._client.request("PUT", f"/layers/{layer}", body)
        self.layer = layer
        self._learn_users(users)

    def add_room(self, room: str) -> None:
        """The original's first step of `joinRoom`: the room counts locally at once (sending, delivery)."""
        if self.layer is None:
            raise PeerStateError("set_layer() before join_room()")
        self.rooms.add(room)

    async def join_room(self, room: str) -> None:
        self.add_room(room)
        users = await self._client.request(
            "PUT", f"/layers/{self.layer}/rooms/{room}", {"id": self._id, "userId": self._id, "peerId": self._id}
        )
        self.room_members[room] = {u["id"] for u in users if isinstance(u, dict) and u.get("id") != self._id}
        self._learn_users(users)

    def drop_room(self, room: str) -> bool:
        """Stop counting `room` locally (no more delivery to it); whether the peer was in it."""
        if self.layer is None or room not in self.rooms:
            return False
        self.rooms.discard(room)
        self.room_members.pop(room, None)
        return True

    async def leave_room(self, room: str) -> None:
        if self.drop_room(room):
            await self.announce_leave(room)

    async def announce_leave(self, room: str) -> None:
        """Tell the lighthouse this peer left `room` (after `drop_room`)."""
        assert self.layer is not None, "set_layer() first"
        await self._client.request("DELETE", f"/layers/{self.layer}/rooms/{room}/users/{self._id}")

    async def rejoin(self) -> None:
        """After a lighthouse reconnection: join the layer and every room again."""
        if self.layer is None:
            return
        await self.join_layer(self.layer)
        for room in list(self.rooms):
            await self.join_room(room)

    def _learn_users(self, users: Any) -> None:
        """Add the members a layer or room call returned as known peers, with their positions."""
        for user in users if isinstance(users, list) else []:
            if not isinstance(user, dict) or not isinstance(user.get("id"), str) or user["id"] == self._id:
                continue
            known = self._known.ensure(user["id"])
            position = user.get("position")
            if known.position is None and isinstance(position, list) and len(position) in (2, 3):
                known.position = tuple(float(v) for v in position)

    def notified(self, frame_type: FrameType, payload: MembershipPayload) -> bool:
        """Apply a lighthouse membership notification; True when it is about this peer's layer and another peer."""
        if payload.layer_id != self.layer or payload.id == self._id:
            return False
        if frame_type is FrameType.PEER_JOINED_LAYER:
            self._known.ensure(payload.id)
        elif frame_type is FrameType.PEER_LEFT_LAYER:
            self._known.remove(payload.id)
            for members in self.room_members.values():
                members.discard(payload.id)
        elif frame_type is FrameType.PEER_JOINED_ROOM and payload.room_id is not None:
            self.room_members.setdefault(payload.room_id, set()).add(payload.id)
            self._known.ensure(payload.id)
        elif frame_type is FrameType.PEER_LEFT_ROOM and payload.room_id is not None:
            self.room_members.get(payload.room_id, set()).discard(payload.id)
        return True
