"""The datapoint schema: original keys and order, defaults, and validation."""

from __future__ import annotations

from typing import Any

import pytest

from peerperf.errors import ProtocolError
from peerperf.protocol.metrics import FIELDS, unknown_metrics, validate_metrics


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
    assert "bogus" not in message  # unknown keys are kept, never a problem
    for part in [
        "missing key 'position'",
        "sent: expected a finite number",
        "room: expected text",
    ]:
        assert part in message


def test_unknown_keys_are_kept_verbatim_after_the_known_ones() -> None:
    out = validate_metrics({"newKey": 20, "position": [1, 2, 3], "nested": {"a": [1.5]}, "sent": 20})
    assert out["newKey"] == 20 and isinstance(out["newKey"], int) and out["nested"] == {"a": [1.5]}
    assert list(out)[-2:] == ["newKey", "nested"]
    assert out["sent"] == 20 and isinstance(out["sent"], int)  # integers keep their type
    assert unknown_metrics(out) == {"newKey": 20, "nested": {"a": [1.5]}}


@pytest.mark.parametrize(
    "extra",
    [
        {"knownPeersCount": 2**63},
        {"sent": 2**53 + 1},
        {"sent": 10**400},  # math.isfinite overflowed on it: a 500 before
        {"connectSetupMs": [0, 2**63]},
        {"deliveredBySubtype": {"chat": 2**64}},
        {"position": [10**400, 0.0, 0.0]},
    ],
)
def test_numbers_parquet_cannot_hold_are_refused_at_submission(extra: dict[str, Any]) -> None:
    """Accepted, they would fail when the buffer is written, after the client was told they were stored."""
    with pytest.raises(ProtocolError, match=r"64-bit|2\^53|numbers"):
        validate_metrics({"position": [0.0, 0.0, 0.0], **extra})
