"""Building, encoding and decoding peer `Packet`s (reference 2.4 and 2.5).

The protobuf classes are generated from `proto/peer_protobuf.proto`; this module adds the parts
the peer library and tests share: packets stamped from a `MessageType` preset, payload encodings,
and decoding that turns any malformed frame into a `ProtocolError`.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.message import DecodeError

from peerperf.errors import ProtocolError
from peerperf.protocol.generated.peer_protobuf_pb2 import (
    MessageData,
    Packet,
    PayloadEncoding,
    PingData,
    PongData,
    SuspendRelayData,
)
from peerperf.protocol.messagetypes import MessageType

__all__ = [
    "MessageData",
    "Packet",
    "PayloadEncoding",
    "PingData",
    "PongData",
    "SuspendRelayData",
    "build_packet",
    "decode_packet",
    "decode_payload",
    "encode_payload",
    "packet_key",
]

Payload = bytes | str | Any


def build_packet(
    message_type: MessageType,
    *,
    src: str,
    sequence_id: int,
    instance_id: int,
    timestamp_ms: int,
    expire_time: int | None = None,
) -> Packet:
    """A fresh packet at hop 0 carrying `message_type`'s relay metadata; data is set by the caller."""
    return Packet(
        sequenceId=sequence_id,
        instanceId=instance_id,
        timestamp=timestamp_ms,
        src=src,
        subtype=message_type.name,
        discardOlderThan=message_type.discard_older_than,
        optimistic=message_type.optimistic,
        expireTime=message_type.expiration_time if expire_time is None else expire_time,
        hops=0,
        ttl=message_type.ttl,
    )


#: The encodings as plain ints: the generated enum wrapper's attribute lookup is slow, and these run per packet.
_BYTES, _STRING, _JSON = PayloadEncoding.BYTES, PayloadEncoding.STRING, PayloadEncoding.JSON
_BINARY = (bytes, bytearray, memoryview)


def encode_payload(payload: Payload) -> tuple[bytes, PayloadEncoding]:
    """Bytes and encoding as the original chose them: bytes as-is, str as UTF-8, else JSON."""
    if isinstance(payload, _BINARY):
        return bytes(payload), _BYTES
    if isinstance(payload, str):
        return payload.encode(), _STRING
    return json.dumps(payload, separators=(",", ":")).encode(), _JSON


def decode_payload(data: MessageData) -> Payload:
    """The application payload of `data`, decoded per its `encoding`."""
    encoding = data.encoding
    try:
        if encoding == _STRING:
            return data.payload.decode()
        if encoding == _JSON:
            return json.loads(data.payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"payload does not match its encoding: {exc}") from None
    return bytes(data.payload)


def decode_packet(frame: bytes) -> Packet:
    """Parse one data-channel frame; anything that is not a `Packet` raises `ProtocolError`."""
    packet = Packet()
    try:
        packet.ParseFromString(frame)
    except (DecodeError, RuntimeWarning) as exc:
        raise ProtocolError(f"undecodable packet ({len(frame)} bytes): {exc}") from None
    if not packet.src:
        raise ProtocolError(f"packet without src ({len(frame)} bytes)")
    return packet


def packet_key(packet: Packet) -> str:
    """Identity of a packet for duplicate detection: `src_instanceId_sequenceId`."""
    return f"{packet.src}_{packet.instanceId}_{packet.sequenceId}"
