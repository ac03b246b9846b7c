"""The datapoint schema, declared once: the original's metrics body plus peerperf's own fields.

A datapoint is what one peer reports every stats interval (reference section 3 "Submission").
JSON bodies are validated against it, Parquet columns are derived from it, and (later) InfluxDB
fields, so the three never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from peerperf.errors import ProtocolError

#: Stats categories in the original's order.
CATEGORIES = ("sent", "received", "relayed", "all", "relevant", "duplicate", "expired")
#: Per-category suffixes: window packets, total packets, packets/s, window bytes, total bytes,
#: bytes/s and average packet size.
SUFFIXES = ("", "Total", "PerSecond", "Bytes", "TotalBytes", "BytesPerSecond", "AveragePacketSize")


class Kind(StrEnum):
    """Value type of one metric."""

    NUMBER = "number"
    INTEGER = "integer"
    TEXT = "text"
    TEXT_LIST = "text_list"
    VECTOR = "vector"


@dataclass(frozen=True)
class MetricField:
    """One key of a datapoint's metrics body."""

    name: str
    kind: Kind
    description: str
    unit: str = ""
    #: Original keys the original client always sent; peerperf's own fields are optional.
    original: bool = True
    #: Value used when an original key is missing (the original client sent 0 for missing stats).
    default: Any = None


def _category_fields() -> list[MetricField]:
    units = {
        "": "packets",
        "Total": "packets",
        "PerSecond": "packets/s",
        "Bytes": "bytes",
        "TotalBytes": "bytes",
        "BytesPerSecond": "bytes/s",
        "AveragePacketSize": "bytes",
    }
    what = {
        "": "in the last window",
        "Total": "since the peer started",
        "PerSecond": "rate over the last window",
        "Bytes": "in the last window",
        "TotalBytes": "since the peer started",
        "BytesPerSecond": "rate over the last window",
        "AveragePacketSize": "since the peer started",
    }
    return [
        MetricField(
            f"{category}{suffix}", Kind.NUMBER, f"{category} {units[suffix]} {what[suffix]}", units[suffix], default=0
        )
        for category in CATEGORIES
        for suffix in SUFFIXES
    ]


FIELDS: tuple[MetricField, ...] = (
    *_category_fields(),
    MetricField("connectedPeers", Kind.TEXT_LIST, "ids of fully connected peers", default=()),
    MetricField("knownPeersCount", Kind.INTEGER, "peers this peer knows of", "peers", default=0),
    MetricField("position", Kind.VECTOR, "the peer's position [x, y, z]", "world units"),
    MetricField("averageLatency", Kind.NUMBER, "mean ping round trip to known peers (when pinging)", "ms"),
    # peerperf's own fields: what the peer created, the harness measuring itself, where the peer ran.
    MetricField(
        "originated",
        Kind.NUMBER,
        "packets this peer created in the window (counted once, not per connection like `sent`)",
        "packets",
        original=False,
    ),
    MetricField(
        "originatedTotal", Kind.NUMBER, "packets this peer created since it started", "packets", original=False
    ),
    MetricField(
        "originatedPerSecond", Kind.NUMBER, "rate of packets created over the window", "packets/s", original=False
    ),
    MetricField("tickLagP50", Kind.NUMBER, "median tick lateness in the window", "ms", original=False),
    MetricField("tickLagP99", Kind.NUMBER, "99th percentile tick lateness in the window", "ms", original=False),
    MetricField("tickLagMax", Kind.NUMBER, "worst tick lateness in the window", "ms", original=False),
    MetricField("ticksMissed", Kind.INTEGER, "ticks skipped because the loop fell behind", "ticks", original=False),
    MetricField("hostCpuPercent", Kind.NUMBER, "CPU used by the peer's host process", "%", original=False),
    MetricField("hostMemoryMb", Kind.NUMBER, "resident memory of the peer's host process", "MB", original=False),
    MetricField("room", Kind.TEXT, "room the peer's routine sends to", original=False),
    MetricField("layer", Kind.TEXT, "layer the peer joined", original=False),
    MetricField("routine", Kind.TEXT, "routine the peer runs", original=False),
    MetricField("nodeId", Kind.TEXT, "Ray node the peer ran on", original=False),
    MetricField("hostId", Kind.TEXT, "peer-host actor the peer ran in", original=False),
)
BY_NAME = {f.name: f for f in FIELDS}
#: Keys that must be present: the original crashed without `position`.
REQUIRED = frozenset({"position"})


def validate_metrics(body: Any) -> dict[str, Any]:
    """A normalised copy of a metrics body, or `ProtocolError` naming every problem.

    Missing original stats become 0 (as the original client sent them). Keys peerperf does not know
    are kept verbatim after the known ones: the original stored any body and its client never read
    the status, so refusing a body for a new key would silently lose every datapoint of that client.
    Numbers keep their JSON type (an integer stays an integer).
    """
    if not isinstance(body, dict):
        raise ProtocolError("metrics must be a JSON object")
    problems = [f"missing key {key!r}" for key in sorted(REQUIRED) if key not in body]
    out: dict[str, Any] = {}
    for field in FIELDS:
        if field.name not in body or body[field.name] is None:
            if field.default is not None:
                out[field.name] = list(field.default) if isinstance(field.default, tuple) else field.default
            continue
        value = body[field.name]
        problem = _check(field.kind, value)
        if problem:
            problems.append(f"{field.name}: {problem}")
        elif field.kind is Kind.INTEGER:
            out[field.name] = int(value)
        else:
            out[field.name] = list(value) if isinstance(value, list) else value
    if problems:
        raise ProtocolError("invalid metrics: " + "; ".join(problems))
    out.update(unknown_metrics(body))
    return out


def unknown_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The keys of a metrics body that are not declared in `FIELDS`, with their values."""
    return {key: value for key, value in metrics.items() if key not in BY_NAME}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check(kind: Kind, value: Any) -> str | None:
    if kind is Kind.NUMBER and not _is_number(value):
        return f"expected a finite number, got {value!r}"
    if kind is Kind.INTEGER and (not _is_number(value) or value != int(value)):
        return f"expected an integer, got {value!r}"
    if kind is Kind.TEXT and not isinstance(value, str):
        return f"expected text, got {value!r}"
    if kind is Kind.TEXT_LIST and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "expected a list of ids"
    if kind is Kind.VECTOR and not (isinstance(value, list) and len(value) in (2, 3) and all(map(_is_number, value))):
        return f"expected [x, y, z] numbers, got {value!r}"
    return None
