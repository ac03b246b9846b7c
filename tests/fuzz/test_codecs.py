"""Property tests of the wire codecs on generated input: signaling frames (and what the lighthouse does
with them), protobuf packets, and metrics bodies (down to the Parquet row they become). Good input
round-trips; anything else is a `ProtocolError`, never another exception."""

from __future__ import annotations

import contextlib
import json
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from peerperf.errors import ProtocolError
from peerperf.lighthouse import LighthouseSettings
from peerperf.lighthouse.connected_client import Client
from peerperf.lighthouse.lighthouse import CloseConnection, Lighthouse
from peerperf.protocol import signaling_frames
from peerperf.protocol.generated.peer_protobuf_pb2 import MessageData, Packet, PayloadEncoding
from peerperf.protocol.metrics import FIELDS, Kind, validate_metrics
from peerperf.protocol.packets import decode_packet, decode_payload, encode_payload
from peerperf.protocol.signaling_frames import Frame, FrameType
from peerperf.results.datapoints import from_rows, to_table
from peerperf.results.model import DataPoint
from tests.fuzz.checks import fuzzed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ids = st.text(max_size=12)
frame_types = st.sampled_from(list(FrameType))
PAYLOAD_KEYS = (
    "connectedPeerIds", "position", "parcel", "optimizeNetwork", "targetConnections", "maxDistance", "sdp",
    "sessionId", "connectionId", "protocolVersion", "lighthouseUrl", "layer", "candidate", "reason", "id",
    "layerId", "roomId", "optimalConnections", "msg", "type",
)  # fmt: skip
#: Payloads that look like the real ones: known keys with values of any type.
payloads = json_values | st.dictionaries(st.sampled_from(PAYLOAD_KEYS), json_values, max_size=6)
raw_frames = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from([t.value for t in FrameType]) | st.text(max_size=10) | json_values,
        "src": ids | json_values,
        "dst": ids | json_values,
        "payload": payloads,
    },
)
PAYLOAD_CLASSES = [
    signaling_frames.HeartbeatPayload,
    signaling_frames.HandshakePayload,
    signaling_frames.CandidatePayload,
    signaling_frames.RejectPayload,
    signaling_frames.MembershipPayload,
    signaling_frames.OptimalNetworkPayload,
    signaling_frames.MessagePayload,
    signaling_frames.AssignedIdPayload,
]


@fuzzed("signaling frames", 0.25)
@given(frame_type=frame_types, src=st.none() | ids, dst=st.none() | ids, payload=json_values)
def test_frames_round_trip(frame_type: FrameType, src: str | None, dst: str | None, payload: Any) -> None:
    frame = Frame(frame_type, src, dst, payload)
    assert Frame.from_json(frame.to_json()) == frame


@fuzzed("signaling frames", 0.35)
@given(
    text=st.text(max_size=200) | st.binary(max_size=200) | raw_frames.map(json.dumps),
    cls=st.sampled_from(PAYLOAD_CLASSES),
)
def test_any_text_is_a_frame_or_a_protocol_error(text: str | bytes, cls: Any) -> None:
    try:
        frame = Frame.from_json(text)
    except ProtocolError:
        return
    with contextlib.suppress(ProtocolError):
        cls.from_json(frame.payload)


SETTINGS = LighthouseSettings(no_auth=True, default_layers=("blue",))


class _OpenSocket:
    closed = False


@fuzzed("signaling frames", 0.4)
@given(frames=st.lists(raw_frames, min_size=1, max_size=4))
def test_the_lighthouse_answers_any_frame_without_failing(frames: list[dict[str, Any]]) -> None:
    """What the `/peerjs` handler calls per frame: an ERROR frame back for bad input, never an exception."""
    lighthouse = Lighthouse(SETTINGS)
    ws = cast(Any, _OpenSocket())
    sender, other = Client("sender", "t1", "challenge", ws), Client("other", "t2", "challenge", ws)
    lighthouse.clients.update(sender=sender, other=other)
    other.authenticated = True
    lighthouse.layers.join_layer("blue", "other")
    for raw in frames:
        try:
            frame = Frame.from_json(json.dumps(raw))
        except ProtocolError:
            continue
        try:
            lighthouse.handle(sender, frame)
        except CloseConnection:
            assert frame.type is FrameType.VALIDATION  # only a failed validation ends the connection
    for client in (sender, other):
        while not client.outbox.empty():
            Frame.from_json(client.outbox.get_nowait())  # everything it queued is a valid frame


packets = st.builds(
    Packet,
    sequenceId=st.integers(0, 2**32 - 1),
    instanceId=st.integers(0, 2**32 - 1),
    timestamp=st.integers(0, 2**64 - 1),
    src=st.text(min_size=1, max_size=50),
    subtype=st.text(max_size=20),
    discardOlderThan=st.integers(-(2**31), 2**31 - 1),
    optimistic=st.booleans(),
    expireTime=st.integers(-(2**31), 2**31 - 1),
    hops=st.integers(0, 2**32 - 1),
    ttl=st.integers(0, 2**32 - 1),
    receivedBy=st.lists(st.text(max_size=20), max_size=4),
)
app_payloads = st.binary(max_size=300) | st.text(max_size=100) | json_values


@fuzzed("protobuf packets", 0.4)
@given(packet=packets, payload=app_payloads)
def test_packets_round_trip(packet: Packet, payload: Any) -> None:
    data, encoding = encode_payload(payload)
    packet.messageData.CopyFrom(MessageData(room="room", payload=data, encoding=encoding))
    decoded = decode_packet(packet.SerializeToString())
    assert decoded == packet
    assert decode_payload(decoded.messageData) == (
        json.loads(json.dumps(payload)) if encoding == PayloadEncoding.JSON else payload
    )


@fuzzed("protobuf packets", 0.6)
@given(
    frame=st.binary(max_size=400)
    | packets.map(lambda p: p.SerializeToString()).flatmap(
        _mutated := lambda b: st.builds(
            lambda cut, junk: b[:cut] + junk, st.integers(0, len(b)), st.binary(max_size=20)
        )
    ),
    encoding=st.sampled_from(list(PayloadEncoding.values())) | st.integers(0, 10),
    payload=st.binary(max_size=100),
)
def test_any_bytes_are_a_packet_or_a_protocol_error(frame: bytes, encoding: int, payload: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_packet(frame)
    with contextlib.suppress(ProtocolError):
        decode_payload(MessageData(payload=payload, encoding=cast(Any, encoding)))


def _value_for(kind: Kind) -> st.SearchStrategy[Any]:
    good = {
        Kind.NUMBER: st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
        Kind.INTEGER: st.integers(-(2**63), 2**63 - 1),
        Kind.TEXT: st.text(max_size=20),
        Kind.TEXT_LIST: st.lists(st.text(max_size=10), max_size=4),
        Kind.VECTOR: st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2, max_size=3),
        Kind.HISTOGRAM: st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 2**40)), max_size=5).map(
            lambda pairs: [v for i, (b, c) in enumerate(sorted(dict(pairs).items())) for v in (b, c)]
        ),
        Kind.COUNTS: st.dictionaries(st.text(max_size=10), st.integers(0, 2**40), max_size=4),
    }[kind]
    return good | json_values | HUGE  # the right type, anything, or a number Parquet cannot hold


#: JSON numbers of any size parse; a 64-bit column holds none of these.
HUGE = st.sampled_from([2**53 + 1, 2**63, -(2**63) - 1, 10**30, 10**400])


metrics_bodies = st.fixed_dictionaries(
    {"position": _value_for(Kind.VECTOR)},
    optional={f.name: _value_for(f.kind) for f in FIELDS if f.name != "position"} | {"someUnknownKey": json_values},
)


@fuzzed("metrics bodies")
@given(body=metrics_bodies | json_values)
def test_a_metrics_body_is_stored_whole_or_refused_clearly(body: Any) -> None:
    """Whatever validation accepts becomes a Parquet row and comes back equal; the rest is a ProtocolError."""
    try:
        metrics = validate_metrics(body)
    except ProtocolError:
        return
    table = to_table([DataPoint("peer", 1, metrics)])
    (back,) = from_rows(table.to_pylist())
    assert json.loads(json.dumps(back.metrics)) == json.loads(json.dumps(metrics))
