"""The InfluxDB schema derived from the datapoint declaration: tags, field names and types, escaping."""

from __future__ import annotations

from peerperf.protocol.histogram import Histogram
from peerperf.protocol.metrics import validate_metrics
from peerperf.results.influx.lines import datapoint_fields, datapoint_point, event_point, to_lines
from peerperf.results.model import DataPoint
from tests.results.conftest import metrics_body


def _latency(*values: float) -> list[int]:
    histogram = Histogram()
    for value in values:
        histogram.record(value)
    return histogram.encode()


def test_a_datapoint_is_one_point_with_tags_and_typed_fields() -> None:
    metrics = validate_metrics(
        metrics_body(
            2,
            room="room 1,a=b",
            layer="blue",
            routine="default",
            nodeId="node",
            hostId="host-0001",
            impairment="",
            window=3,
            deliveredBySubtype={"position": 40, "chat": 1},
            latencyPositionMs=_latency(*([5.0] * 99), 500.0),
        )
    )
    line = to_lines([datapoint_point("t-1", DataPoint("peer-a", 1_700_000_000_123, metrics))])[0]
    head, fields, timestamp = line.rsplit(" ", 2)[0], line.rsplit(" ", 2)[1], line.rsplit(" ", 2)[2]
    # The library escapes tag values: a space, a comma or an equals sign cannot split the line.
    assert head.startswith("peer_metrics,") and r"room=room\ 1\,a\=b" in head
    assert "test=t-1" in head and "peer=peer-a" in head and "host=host-0001" in head and "node=node" in head
    assert "impairment=" not in head  # empty: no tag
    assert timestamp == "1700000000123"
    values = dict(item.split("=", 1) for item in fields.split(","))
    assert values["sent"] == "2"  # a float (no `i`): numbers are always floats, whatever JSON type they came as
    assert values["window"] == "3i" and values["knownPeersCount"] == "3i"
    assert values["deliveredBySubtype_position"] == "40i" and values["deliveredBySubtype_chat"] == "1i"
    assert values["position_x"] == "1.5" and values["position_z"] == "-2"
    assert values["latencyPositionMs_count"] == "100i"
    assert 4.7 < float(values["latencyPositionMs_p50"]) < 5.3
    assert 4.7 < float(values["latencyPositionMs_p99"]) < 5.3 and float(values["latencyPositionMs_max"]) > 470
    assert "connectedPeers" not in values and "room" not in values


def test_every_numeric_metric_keeps_its_original_name() -> None:
    fields = datapoint_fields(validate_metrics(metrics_body(7, averageLatency=3.25)))
    for name in ("sentPerSecond", "receivedTotal", "duplicateBytes", "averageLatency"):
        assert name in fields
    assert fields["averageLatency"] == 3.25 and isinstance(fields["receivedTotal"], float)


def test_a_run_event_is_a_point_of_its_own_measurement() -> None:
    line = event_point("t-1", "peers_lost", 5, {"count": 2, "peers": "a,b"}).to_line_protocol()
    assert line == 'run_events,event=peers_lost,test=t-1 count=2,peers="a,b" 5'
    assert event_point("t-1", "start", 7, {}).to_line_protocol() == "run_events,event=start,test=t-1 count=1 7"
