"""Known peers: positions from messages are decoded when read, not per message."""

from __future__ import annotations

from peerperf.peer.knownpeers import KnownPeers, Position


def test_an_encoded_position_is_decoded_once_when_read_and_the_newest_wins() -> None:
    decoded: list[bytes] = []

    def decode(data: bytes) -> Position | None:
        decoded.append(data)
        return None if data == b"junk" else (float(data[0]), 0.0, float(data[1]))

    known = KnownPeers()
    known.update_position("bob", (1.0, 0.0, 1.0))
    for message in (b"\x02\x03", b"\x04\x05", b"\x06\x07"):
        known.update_encoded_position("bob", message, decode)
    assert decoded == []  # nothing decoded while messages arrive
    bob = known.get("bob")
    assert bob is not None and bob.last_updated is not None
    assert bob.position == (6.0, 0.0, 7.0) and bob.position == (6.0, 0.0, 7.0)
    assert decoded == [b"\x06\x07"]  # only the newest, once

    known.update_encoded_position("bob", b"junk", decode)
    assert bob.position == (6.0, 0.0, 7.0)  # a message without a position keeps the last one
    known.update_position("bob", (9.0, 0.0, 9.0))
    known.update_encoded_position("carol", b"\x01\x01", decode)
    assert bob.position == (9.0, 0.0, 9.0) and "carol" in known
