"""The InfluxDB schema, derived from the one datapoint declaration (`peerperf.protocol.metrics`).

Measurement `peer_metrics`, one point per datapoint: tags `test, peer, node, host, room, layer,
routine, impairment, kind`; fields are the metrics under their own (the original's) names. Numbers are
always floats and integers always integers, so a field never changes type (InfluxDB refuses that).
Histograms become `<name>_count`, `<name>_p50`, `<name>_p99` and `<name>_max`; counts by name become
one integer field each, `<name>_<key>`; `position` becomes `position_x/_y/_z`; `connectedPeers` (ids),
counts keyed by window number (`originatedByWindow`, `arrivedByWindow`) and keys peerperf does not declare
are left out (they stay in JSON and Parquet).
Measurement `run_events`: tags `test, event` (`start`, `finish`, `peers_lost`), fields per event.
Line protocol and its escaping are influxdb-client's (`Point.to_line_protocol`).
"""

from __future__ import annotations

import re
from typing import Any

from influxdb_client import Point, WritePrecision

from peerperf.protocol.histogram import Histogram
from peerperf.protocol.metrics import FIELDS, Kind
from peerperf.results.model import DataPoint

PEER_MEASUREMENT = "peer_metrics"
EVENT_MEASUREMENT = "run_events"
#: Tag name -> metrics key it comes from (`test` and `peer` come from the datapoint itself).
TAG_KEYS = {
    "node": "nodeId",
    "host": "hostId",
    "room": "room",
    "layer": "layer",
    "routine": "routine",
    "impairment": "impairment",
    "kind": "kind",
}
HISTOGRAM_FIELDS = ("count", "p50", "p99", "max")
_KEY = re.compile(r"[^A-Za-z0-9_]")


def datapoint_point(test_id: str, point: DataPoint) -> Point:
    """One datapoint as a `peer_metrics` point at its server timestamp (ms)."""
    out = Point(PEER_MEASUREMENT).tag("test", test_id).tag("peer", point.peer_id)
    metrics = point.metrics
    for tag, key in TAG_KEYS.items():
        if isinstance(metrics.get(key), str) and metrics[key]:
            out.tag(tag, metrics[key])
    for name, value in datapoint_fields(metrics).items():
        out.field(name, value)
    return out.time(point.timestamp, WritePrecision.MS)


def datapoint_fields(metrics: dict[str, Any]) -> dict[str, float | int]:
    """The InfluxDB fields of a validated metrics body (see the module's docstring)."""
    fields: dict[str, float | int] = {}
    for spec in FIELDS:
        value = metrics.get(spec.name)
        if value is None or not spec.influx:
            continue
        if spec.kind is Kind.NUMBER:
            fields[spec.name] = float(value)
        elif spec.kind is Kind.INTEGER:
            fields[spec.name] = int(value)
        elif spec.kind is Kind.VECTOR:
            fields.update({f"{spec.name}_{axis}": float(v) for axis, v in zip("xyz", value, strict=False)})
        elif spec.kind is Kind.COUNTS:
            fields.update({f"{spec.name}_{_KEY.sub('_', key)}": int(count) for key, count in value.items()})
        elif spec.kind is Kind.HISTOGRAM and value:
            histogram = Histogram.decode(value, spec.scale)
            fields[f"{spec.name}_count"] = histogram.total
            fields[f"{spec.name}_p50"] = histogram.percentile(50)
            fields[f"{spec.name}_p99"] = histogram.percentile(99)
            fields[f"{spec.name}_max"] = histogram.percentile(100)
    return fields


def event_point(test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> Point:
    """A run event; fields are numbers or text (a point needs at least one: `count` defaults to 1)."""
    out = Point(EVENT_MEASUREMENT).tag("test", test_id).tag("event", name)
    values = fields or {"count": 1}
    for key, value in values.items():
        out.field(key, float(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value))
    return out.time(at_ms, WritePrecision.MS)


def to_lines(points: list[Point]) -> list[str]:
    """Line protocol of the points (influxdb-client's serialiser and escaping); empty lines dropped."""
    return [line for line in (p.to_line_protocol() for p in points) if line]
