"""Round trips of every message type, the presets, and decoding of bad bytes."""

from __future__ import annotations

import pytest

from peerperf.errors import ProtocolError
from peerperf.protocol import messagetypes
from peerperf.protocol.comms import ChatData, CommsMessage, PositionData, ProfileData, SceneData
from peerperf.protocol.messagetypes import PING, PONG, SUSPEND_RELAY, UNSET, reliable, unreliable
from peerperf.protocol.packets import (
    MessageData,
    PayloadEncoding,
    PingData,
    PongData,
    SuspendRelayData,
    build_packet,
    decode_packet,
    decode_payload,
    encode_payload,
    packet_key,
)


def test_presets_carry_the_reference_values() -> None:
    assert reliable("chat") == messagetypes.MessageType("chat", 10, 20000, UNSET, False)
    assert unreliable("position") == messagetypes.MessageType("position", 10, 2000, 0, True)
    assert (PING.ttl, PING.expiration_time, PING.discard_older_than, PING.optimistic) == (10, 7000, 0, True)
    assert (PONG.ttl, PONG.expiration_time, PONG.discard_older_than, PONG.optimistic) == (10, 7000, 0, True)
    assert (
        SUSPEND_RELAY.ttl,
        SUSPEND_RELAY.expiration_time,
        SUSPEND_RELAY.discard_older_than,
        SUSPEND_RELAY.optimistic,
    ) == (1, UNSET, 0, True)


@pytest.mark.parametrize(
    "data_field,data",
    [
        ("messageData", MessageData(room="r", payload=b"\x00\x01", encoding=PayloadEncoding.BYTES)),
        ("pingData", PingData(pingId=4294967295)),
        ("pongData", PongData(pingId=7)),
        ("suspendRelayData", SuspendRelayData(relayedPeers=["a", "b"], durationMillis=5000)),
    ],
)
def test_every_packet_kind_round_trips(data_field: str, data: object) -> None:
    packet = build_packet(
        reliable("x"), src="peer1", sequence_id=3, instance_id=2**32 - 1, timestamp_ms=2**53, expire_time=None
    )
    getattr(packet, data_field).CopyFrom(data)
    packet.receivedBy.extend(["peer1", "peer2"])
    again = decode_packet(packet.SerializeToString())
    assert again == packet
    assert again.WhichOneof("data") == data_field
    assert again.discardOlderThan == -1 and again.expireTime == 20000
    assert packet_key(again) == f"peer1_{2**32 - 1}_3"


@pytest.mark.parametrize(
    "message",
    [
        CommsMessage(time=1.5, position_data=PositionData(position_x=1, position_z=-2, rotation_w=1)),
        CommsMessage(time=2.0, profile_data=ProfileData(profile_version="1", user_id="u")),
        CommsMessage(time=3.0, chat_data=ChatData(message_id="m", text="hi")),
        CommsMessage(time=4.0, scene_data=SceneData(scene_id="s", text="t")),
    ],
)
def test_every_comms_message_round_trips(message: CommsMessage) -> None:
    assert CommsMessage.FromString(message.SerializeToString()) == message


@pytest.mark.parametrize(
    "payload,encoding",
    [
        (b"\x01\x02", PayloadEncoding.BYTES),
        ("hi ✓", PayloadEncoding.STRING),
        ({"a": [1, 2]}, PayloadEncoding.JSON),
    ],
)
def test_payload_encodings_round_trip(payload: object, encoding: PayloadEncoding) -> None:
    raw, chosen = encode_payload(payload)
    assert chosen == encoding
    assert decode_payload(MessageData(payload=raw, encoding=chosen)) == payload


def test_payload_that_contradicts_its_encoding_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="encoding"):
        decode_payload(MessageData(payload=b"\xff\xfe", encoding=PayloadEncoding.STRING))


@pytest.mark.parametrize("frame", [b"\xff\xff\xff", b"\x0a\x05ab", b"", b"\x08\x01"])
def test_bad_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_packet(frame)
