"""The datapoint schema: original keys and order, defaults, and validation."""

from __future__ import annotations

import pytest

from peerperf.errors import ProtocolError
from peerperf.protocol.metrics import FIELDS, validate_metrics


def test_original_keys_in_the_original_order() -> None:
    original = [f.name for f in FIELDS if f.original]
    assert original[:7] == [
        "sent",
        "sentTotal",
        "sentPerSecond",
        "sentBytes",
        "sentTotalBytes",
        "sentBytesPerSecond",
        "sentAveragePacketSize",
    ]
    assert original[42:49] == [
        f"expired{s}" for s in ("", "Total", "PerSecond", "Bytes", "TotalBytes", "BytesPerSecond", "AveragePacketSize")
    ]
    assert original[49:] == ["connectedPeers", "knownPeersCount", "position", "averageLatency"]
    assert len({f.name for f in FIELDS}) == len(FIELDS)


def test_missing_stats_default_to_zero_as_the_original_client_sent() -> None:
    out = validate_metrics({"position": [1, 2, 3], "tickLagP99": 1.5, "routine": "default"})
    assert out["relevantPerSecond"] == 0 and out["connectedPeers"] == [] and out["knownPeersCount"] == 0
    assert out["tickLagP99"] == 1.5 and out["routine"] == "default"
    assert "averageLatency" not in out and "nodeId" not in out


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ProtocolError) as err:
        validate_metrics({"sent": float("nan"), "bogus": 1, "room": 3})
    message = str(err.value)
    for part in [
        "unknown key 'bogus'",
        "missing key 'position'",
        "sent: expected a finite number",
        "room: expected text",
    ]:
        assert part in message
