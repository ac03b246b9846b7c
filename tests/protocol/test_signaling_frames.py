"""Signaling frames and payloads: JSON round trips and validation."""

from __future__ import annotations

import json

import pytest

from peerperf.errors import ProtocolError
from peerperf.protocol.jsoncodec import JsonData
from peerperf.protocol.signaling_frames import (
    AssignedIdPayload,
    CandidatePayload,
    Frame,
    FrameType,
    HandshakePayload,
    HeartbeatPayload,
    IceCandidate,
    MembershipPayload,
    MessagePayload,
    OptimalConnection,
    OptimalNetworkPayload,
    RejectPayload,
    SessionDescription,
)

PAYLOADS: list[JsonData] = [
    HeartbeatPayload(("a", "b"), (1.0, 0.0, 2.0), (0, 0), True, 4, 80.0),
    HandshakePayload(SessionDescription("offer", "v=0"), "sess", "a_b_sess", 4, "http://lh", "blue", (1.0, 2.0, 3.0)),
    CandidatePayload(IceCandidate("candidate:1 1 udp 1 127.0.0.1 5 typ host", 0, "0"), "sess", "c", "candidate"),
    RejectPayload("sess", "TOO_MANY_CONNECTIONS"),
    MembershipPayload("p", "blue", "room"),
    OptimalNetworkPayload("blue", (OptimalConnection("p", 1, (1.0, 2.0, 3.0)),)),
    MessagePayload("ID is taken"),
    AssignedIdPayload("00"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_payload_json_round_trip(payload: JsonData) -> None:
    text = json.dumps(payload.to_json())
    assert type(payload).from_json(json.loads(text)) == payload


def test_keys_are_the_originals() -> None:
    assert HeartbeatPayload(("a",), optimize_network=True, max_distance=80).to_json() == {
        "connectedPeerIds": ["a"],
        "optimizeNetwork": True,
        "maxDistance": 80,
    }
    assert IceCandidate("c", 0, "0").to_json() == {"candidate": "c", "sdpMLineIndex": 0, "sdpMid": "0"}
    assert MembershipPayload("p", "blue").to_json() == {"userId": "p", "peerId": "p", "id": "p", "layerId": "blue"}


@pytest.mark.parametrize("frame_type", list(FrameType))
def test_every_frame_type_round_trips(frame_type: FrameType) -> None:
    frame = Frame(frame_type, "src", "dst", {"k": [1, "x"]})
    assert Frame.from_json(frame.to_json()) == frame
    assert json.loads(Frame(frame_type).to_json()) == {"type": frame_type.value}


@pytest.mark.parametrize(
    "text,message",
    [
        ("nope", "not JSON"),
        ("[]", "JSON object"),
        ('{"type":"X"}', "unknown frame type"),
        ('{"type":"OFFER","src":1}', "'src' must be a string"),
        (b"\xff", "not JSON"),
    ],
)
def test_bad_frames(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        Frame.from_json(text)


@pytest.mark.parametrize(
    "obj,message",
    [
        ({"connectedPeerIds": "a"}, "connectedPeerIds: expected a list"),
        ({"position": [1, "x"]}, r"position\[1\]: expected a number"),
        ({"targetConnections": 1.5}, "expected an integer"),
        ({"optimizeNetwork": "yes"}, "expected bool"),
        ("str", "expected an object"),
    ],
)
def test_payload_validation_names_the_bad_key(obj: object, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        HeartbeatPayload.from_json(obj)


def test_missing_required_key() -> None:
    with pytest.raises(ProtocolError, match="missing key 'sessionId'"):
        HandshakePayload.from_json({"sdp": {"type": "offer", "sdp": ""}})
