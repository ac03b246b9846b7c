"""The original routine's application messages (reference section 3), byte for byte in size.

position 46 B, profile 58 B (42-character id), chat 91 B (UUID message id, 40-character text).
Every field is written, defaults included, as the original's encoder did.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Sequence

from google.protobuf.message import DecodeError

from peerperf.protocol.comms import ChatData, CommsMessage, PositionData, ProfileData
from peerperf.protocol.ids import random_id
from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.wallclock import now_ms

log = logging.getLogger(__name__)

#: Identity rotation. The original sent an all-zero quaternion (reference 7, client bug 2); the
#: size is the same either way.
IDENTITY_ROTATION = (0.0, 0.0, 0.0, 1.0)
CHAT_TEXT_LENGTH = 40


def position_message(
    position: Sequence[float], rotation: Sequence[float] = IDENTITY_ROTATION, sent_at: float | None = None
) -> bytes:
    x, y, z = [*position, 0.0, 0.0, 0.0][:3]
    data = PositionData(
        position_x=x,
        position_y=y,
        position_z=z,
        rotation_x=rotation[0],
        rotation_y=rotation[1],
        rotation_z=rotation[2],
        rotation_w=rotation[3],
    )
    return CommsMessage(time=now_ms() if sent_at is None else sent_at, position_data=data).SerializeToString()


def profile_message(user_id: str, profile_version: str = "1", sent_at: float | None = None) -> bytes:
    data = ProfileData(profile_version=profile_version, user_id=user_id)
    return CommsMessage(time=now_ms() if sent_at is None else sent_at, profile_data=data).SerializeToString()


def chat_message(text: str | None = None, sent_at: float | None = None) -> bytes:
    if text is None:
        text = random_id(CHAT_TEXT_LENGTH)
    data = ChatData(message_id=str(uuid.uuid4()), text=text)
    return CommsMessage(time=now_ms() if sent_at is None else sent_at, chat_data=data).SerializeToString()


def comms_send_time(payload: Payload, packet: Packet, offset_ms: float = 0.0) -> float:
    """When an app message was sent, on this host's wall clock (ms): the CommsMessage's `time` (finer
    than the packet's whole-ms timestamp), stamped on the reference clock, plus this host's `offset_ms`
    to it; payloads of other shapes fall back to the packet's timestamp, as the sender's clock read it."""
    message = _decoded(payload) if isinstance(payload, bytes) else None
    if message is not None and message.HasField("time"):
        return message.time + offset_ms
    return float(packet.timestamp)


def decoded_position(payload: bytes) -> tuple[float, float, float] | None:
    """The position in a CommsMessage payload, or None when it carries something else."""
    message = _decoded(payload)
    if message is None or message.WhichOneof("data") != "position_data":
        return None
    p = message.position_data
    return (p.position_x, p.position_y, p.position_z)


@functools.lru_cache(maxsize=1)
def _decoded(payload: bytes) -> CommsMessage | None:
    """A delivered payload decoded once: the mesh reads its send time, the peer its position (read-only)."""
    try:
        return CommsMessage.FromString(payload)
    except DecodeError as exc:
        _undecodable(exc)
        return None


def _undecodable(exc: DecodeError) -> None:
    """Say (once per process, then at debug level) that app payloads arrive that are not CommsMessages."""
    log.debug("an app payload is not a CommsMessage: %s", exc)
    _warn_once()


@functools.cache
def _warn_once() -> None:
    log.warning(
        "app payloads that are not CommsMessages arrive: their latency is measured from the packet's whole-ms "
        "timestamp and they carry no position (further ones are logged at debug level)"
    )
