"""Wire compatibility against bytes produced by the original's own encoders."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message

from peerperf.protocol.comms import CommsMessage
from peerperf.protocol.packets import Packet, decode_packet
from tests.conftest import shared_dir

BYTES_FIELDS = {"payload"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _attr(message: Message, key: str) -> Any:
    return getattr(message, key) if hasattr(message, key) else getattr(message, _snake(key))


def assert_fields(message: Message, expected: dict[str, Any]) -> None:
    """Every listed field of the vector equals the decoded message's field."""
    for key, want in expected.items():
        got = _attr(message, key)
        if isinstance(want, dict):
            assert message.HasField(key if hasattr(message, key) else _snake(key)), key
            assert_fields(got, want)
        elif key in BYTES_FIELDS:
            assert bytes(got) == bytes.fromhex(want), key
        elif isinstance(want, list):
            assert list(got) == want, key
        elif isinstance(want, float):
            assert got == pytest.approx(want), key
        else:
            assert got == want, key


def build(cls: type[Message], fields: dict[str, Any]) -> Message:
    """A message built from a vector's field listing alone."""
    message = cls()
    for key, value in fields.items():
        attr = key if hasattr(message, key) else _snake(key)
        if isinstance(value, dict):
            sub = getattr(message, attr)
            sub.CopyFrom(build(type(sub), value))
        elif key in BYTES_FIELDS:
            setattr(message, attr, bytes.fromhex(value))
        elif isinstance(value, list):
            getattr(message, attr).extend(value)
        else:
            setattr(message, attr, value)
    return message


@pytest.fixture(scope="module")
def vectors(golden_vectors_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(golden_vectors_path.read_text())
    assert data["packets"] and data["comms"]
    return data


def test_every_packet_vector_decodes_to_its_fields(vectors: dict[str, Any]) -> None:
    for vector in vectors["packets"]:
        raw = bytes.fromhex(vector["hex"])
        assert len(raw) == vector["length"]
        assert_fields(decode_packet(raw), vector["fields"])


def test_minus_one_is_a_ten_byte_varint_that_decodes(vectors: dict[str, Any]) -> None:
    minus_one = [
        v for v in vectors["packets"] if v["fields"]["discardOlderThan"] == -1 or v["fields"]["expireTime"] == -1
    ]
    assert minus_one, "the vectors must include -1 fields"
    for vector in minus_one:
        assert "ffffffffffffffffff01" in vector["hex"]
        packet = decode_packet(bytes.fromhex(vector["hex"]))
        assert -1 in (packet.discardOlderThan, packet.expireTime)
        ours = packet.SerializeToString()
        assert b"\xff" * 9 + b"\x01" in ours  # our encoder writes -1 the same way


def test_every_comms_vector_decodes_to_its_fields(vectors: dict[str, Any]) -> None:
    for vector in vectors["comms"]:
        raw = bytes.fromhex(vector["hex"])
        message = CommsMessage.FromString(raw)
        assert len(raw) == vector["length"]
        assert_fields(message, vector["fields"])


@pytest.mark.parametrize("kind,cls", [("packets", Packet), ("comms", CommsMessage)])
def test_encoding_the_listed_fields_decodes_to_the_same_values(
    vectors: dict[str, Any], kind: str, cls: type[Message]
) -> None:
    for vector in vectors[kind]:
        encoded = build(cls, vector["fields"]).SerializeToString()
        assert len(encoded) == vector["length"], f"{vector['name']}: not the original's size"
        again = cls.FromString(encoded)
        assert_fields(again, vector["fields"])
        assert again == cls.FromString(bytes.fromhex(vector["hex"]))


def test_comms_payload_sizes_match_the_reference(vectors: dict[str, Any]) -> None:
    """Reference section 3: position 46 B, profile 58 B, chat 91 B (the default routine's sizes)."""
    sizes = {v["name"]: len(build(CommsMessage, v["fields"]).SerializeToString()) for v in vectors["comms"]}
    assert sizes == {"position": 46, "profile": 58, "chat": 91}


def test_the_copy_is_the_reference_file_when_the_reference_is_beside_the_checkout(golden_vectors_path: Path) -> None:
    """The vectors are data copied into tests/; `shared/` is only consulted to catch the two drifting apart."""
    reference = shared_dir() / "docs" / "reference" / "golden-vectors.json"
    if not reference.exists():
        pytest.skip(f"{reference} is absent (the copy in tests/ is what the other tests read)")
    assert golden_vectors_path.read_bytes() == reference.read_bytes()
