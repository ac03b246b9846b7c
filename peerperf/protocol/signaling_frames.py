"""Lighthouse signaling frames (reference 1.3): JSON text frames `{type, src?, dst?, payload?}`.

`Frame` is the envelope the lighthouse relays; the payload classes give each frame type's payload a
typed, validated shape for the code that acts on it. Key names and values follow the original so
original peers and lighthouses interoperate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from peerperf.errors import ProtocolError
from peerperf.protocol.jsoncodec import JsonData

#: `src` of the lighthouse's layer and room notifications.
NOTIFICATION_SOURCE = "__lighthouse_notification__"
#: `src` of the lighthouse's answers (OPTIMAL_NETWORK_RESPONSE).
RESPONSE_SOURCE = "__lighthouse_response__"
#: The only accepted value of the WebSocket's `key` query parameter.
PEERJS_KEY = "peerjs"
#: The peer library's handshake protocol version at snapshots A and B.
PROTOCOL_VERSION = 4


class FrameType(StrEnum):
    """Every frame type either side sends."""

    OPEN = "OPEN"
    VALIDATION = "VALIDATION"
    VALIDATION_OK = "VALIDATION_OK"
    VALIDATION_NOK = "VALIDATION_NOK"
    HEARTBEAT = "HEARTBEAT"
    OFFER = "OFFER"
    ANSWER = "ANSWER"
    CANDIDATE = "CANDIDATE"
    REJECT = "REJECT"
    LEAVE = "LEAVE"
    EXPIRE = "EXPIRE"
    ERROR = "ERROR"
    ID_TAKEN = "ID-TAKEN"
    ASSIGNED_ID = "ASSIGNED_ID"
    PEER_JOINED_LAYER = "PEER_JOINED_LAYER"
    PEER_LEFT_LAYER = "PEER_LEFT_LAYER"
    PEER_JOINED_ROOM = "PEER_JOINED_ROOM"
    PEER_LEFT_ROOM = "PEER_LEFT_ROOM"
    OPTIMAL_NETWORK_RESPONSE = "OPTIMAL_NETWORK_RESPONSE"


#: Peer-to-peer frames the lighthouse forwards to `dst` with `src` overwritten.
RELAYED_TYPES = frozenset(
    {FrameType.OFFER, FrameType.ANSWER, FrameType.CANDIDATE, FrameType.REJECT, FrameType.LEAVE, FrameType.EXPIRE}
)


class RejectReason(StrEnum):
    """Why a peer refused a connection (REJECT payload `reason`)."""

    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    INCOMPATIBLE_PROTOCOL_VERSION = "INCOMPATIBLE_PROTOCOL_VERSION"
    MUST_BE_IN_SAME_DOMAIN_AND_LAYER = "MUST_BE_IN_SAME_DOMAIN_AND_LAYER"


@dataclass(frozen=True)
class Frame:
    """One signaling frame; `payload` is plain JSON until a handler asks for its typed form."""

    type: FrameType
    src: str | None = None
    dst: str | None = None
    payload: Any = None

    def to_json(self) -> str:
        """Compact JSON text; absent fields are omitted as the original did."""
        obj: dict[str, Any] = {"type": self.type.value}
        if self.src is not None:
            obj["src"] = self.src
        if self.dst is not None:
            obj["dst"] = self.dst
        if self.payload is not None:
            obj["payload"] = self.payload.to_json() if isinstance(self.payload, JsonData) else self.payload
        return json.dumps(obj, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Frame:
        """Parse and validate the envelope; raises `ProtocolError` for anything else."""
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"frame is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ProtocolError("frame must be a JSON object")
        raw_type = obj.get("type")
        try:
            frame_type = FrameType(str(raw_type))
        except ValueError:
            raise ProtocolError(f"unknown frame type {raw_type!r}") from None
        for key in ("src", "dst"):
            if obj.get(key) is not None and not isinstance(obj[key], str):
                raise ProtocolError(f"frame {key!r} must be a string")
        return cls(frame_type, obj.get("src"), obj.get("dst"), obj.get("payload"))


# ---- payloads ---------------------------------------------------------------------------------

Vector3 = tuple[float, ...]


@dataclass(frozen=True)
class HeartbeatPayload(JsonData):
    """HEARTBEAT (client to server): liveness, topology and position, optional network request."""

    connected_peer_ids: tuple[str, ...] = ()
    position: Vector3 | None = None
    #: `[floor(x/16), floor(z/16)]`, kept for old lighthouses.
    parcel: tuple[int, ...] | None = None
    optimize_network: bool | None = None
    target_connections: int | None = None
    #: Largest distance, in world units, of the hints wanted.
    max_distance: float | None = None


@dataclass(frozen=True)
class SessionDescription(JsonData):
    """An SDP offer or answer as RTCSessionDescription serialises it."""

    type: str
    sdp: str


@dataclass(frozen=True)
class HandshakePayload(JsonData):
    """OFFER / ANSWER payload: SDP plus the fields peers check before accepting (reference 2.2)."""

    sdp: SessionDescription
    session_id: str
    connection_id: str | None = None
    protocol_version: int | None = None
    lighthouse_url: str | None = None
    layer: str | None = None
    position: Vector3 | None = None


@dataclass(frozen=True)
class IceCandidate(JsonData):
    """A trickled ICE candidate as simple-peer sends it."""

    candidate: str
    sdp_m_line_index: int | None = None
    sdp_mid: str | None = None


@dataclass(frozen=True)
class CandidatePayload(JsonData):
    """CANDIDATE payload (trickling peers only; aiortc sends complete SDP instead)."""

    candidate: IceCandidate
    session_id: str | None = None
    connection_id: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class RejectPayload(JsonData):
    """REJECT payload: the session refused and why."""

    session_id: str | None
    reason: str
    label: str | None = None


@dataclass(frozen=True)
class MembershipPayload(JsonData):
    """PEER_JOINED/LEFT_LAYER/ROOM payload; `userId` and `peerId` repeat `id` for old peers."""

    id: str
    layer_id: str
    room_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"userId": self.id, "peerId": self.id, **super().to_json()}


@dataclass(frozen=True)
class OptimalConnection(JsonData):
    """One connection hint: a layer member, its discretized distance and its position."""

    id: str
    distance: int
    position: Vector3


@dataclass(frozen=True)
class OptimalNetworkPayload(JsonData):
    """OPTIMAL_NETWORK_RESPONSE payload."""

    layer_id: str
    optimal_connections: tuple[OptimalConnection, ...] = field(default=())


@dataclass(frozen=True)
class MessagePayload(JsonData):
    """ERROR and ID-TAKEN payload."""

    msg: str


@dataclass(frozen=True)
class AssignedIdPayload(JsonData):
    """ASSIGNED_ID payload (B): the id the lighthouse chose for the peer."""

    id: str


def error_frame(message: str) -> Frame:
    """An ERROR frame carrying a human-readable message."""
    return Frame(FrameType.ERROR, payload=MessagePayload(message))
