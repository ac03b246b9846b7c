"""App payloads that are not CommsMessages are measured from the packet's timestamp, and said so."""

from __future__ import annotations

import logging

import pytest

from peerperf.protocol.generated.peer_protobuf_pb2 import Packet
from peerperf.sim import payloads


def test_an_undecodable_payload_falls_back_loudly(caplog: pytest.LogCaptureFixture) -> None:
    payloads._warn_once.cache_clear()
    caplog.set_level(logging.DEBUG, logger=payloads.__name__)
    packet = Packet(src="p", timestamp=1234)
    assert payloads.comms_send_time(b"\xff\xff\xff", packet) == 1234.0
    assert payloads.decoded_position(b"\xff\xff\xfe") is None  # another payload (one is decoded once)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not CommsMessages" in warnings[0].getMessage()  # once, then debug lines
    assert sum("is not a CommsMessage" in r.getMessage() for r in caplog.records) == 2
    assert payloads.comms_send_time(payloads.position_message((1.0, 2.0, 3.0), sent_at=99.5), packet, 0.5) == 100.0
