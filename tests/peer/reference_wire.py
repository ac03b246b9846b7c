"""A protobuf wire codec written only from the reference's field table (catalyst-comms.md 2.4).

It shares no code with the project's generated classes, so packets that survive a round trip
through it are wire-compatible by the reference's definition, not by the project's own.
"""

from __future__ import annotations

from typing import Any

# field number -> (name, kind); kinds: uint, int32, bool, string, bytes, message:<name>, repeated ...
PACKET = {
    1: ("sequenceId", "uint"),
    2: ("instanceId", "uint"),
    3: ("timestamp", "uint"),
    4: ("src", "string"),
    5: ("subtype", "string"),
    6: ("discardOlderThan", "int32"),
    14: ("optimistic", "bool"),
    7: ("expireTime", "int32"),
    8: ("hops", "uint"),
    9: ("ttl", "uint"),
    10: ("receivedBy", "repeated string"),
    11: ("messageData", "message:MessageData"),
    12: ("pingData", "message:PingData"),
    13: ("pongData", "message:PongData"),
    15: ("suspendRelayData", "message:SuspendRelayData"),
}
MESSAGES = {
    "MessageData": {
        1: ("room", "string"),
        2: ("dst", "repeated bytes"),
        3: ("payload", "bytes"),
        4: ("encoding", "uint"),
    },
    "PingData": {1: ("pingId", "uint")},
    "PongData": {1: ("pingId", "uint")},
    "SuspendRelayData": {1: ("relayedPeers", "repeated string"), 2: ("durationMillis", "uint")},
    "Packet": PACKET,
}
#: ts-proto's write order: 1-6, 14, 7-10, then the oneof.
PACKET_ORDER = [1, 2, 3, 4, 5, 6, 14, 7, 8, 9, 10, 11, 12, 13, 15]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def decode(data: bytes, message: str = "Packet") -> dict[str, Any]:
    table = MESSAGES[message]
    out: dict[str, Any] = {}
    pos = 0
    while pos < len(data):
        value: Any
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        name, kind = table[number]
        if wire == 0:
            value, pos = _varint(data, pos)
            if kind == "int32" and value >= 1 << 63:
                value -= 1 << 64
            elif kind == "bool":
                value = bool(value)
        elif wire == 2:
            length, pos = _varint(data, pos)
            raw = data[pos : pos + length]
            pos += length
            base = kind.removeprefix("repeated ")
            value = (
                decode(raw, base.split(":")[1])
                if base.startswith("message:")
                else raw.decode()
                if base == "string"
                else raw
            )
        else:
            raise ValueError(f"unexpected wire type {wire} for {name}")
        if kind.startswith("repeated"):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _write_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode(fields: dict[str, Any], message: str = "Packet") -> bytes:
    """Every field present in `fields`, written as ts-proto wrote them (defaults included)."""
    table = MESSAGES[message]
    order = PACKET_ORDER if message == "Packet" else sorted(table)
    out = bytearray()
    for number in order:
        name, kind = table[number]
        if name not in fields:
            continue
        values = fields[name] if kind.startswith("repeated") else [fields[name]]
        base = kind.removeprefix("repeated ")
        for value in values:
            if base in ("uint", "int32", "bool"):
                out += _write_varint(number << 3) + _write_varint(int(value))
            else:
                raw = (
                    encode(value, base.split(":")[1])
                    if base.startswith("message:")
                    else value.encode()
                    if base == "string"
                    else bytes(value)
                )
                out += _write_varint(number << 3 | 2) + _write_varint(len(raw)) + raw
    return bytes(out)
