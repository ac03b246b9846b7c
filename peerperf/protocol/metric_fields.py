"""Every metric of a datapoint, declared once: its name, value kind, unit and description.

The original's metrics body (packet counts by category, connected peers, position) plus peerperf's own
fields. `peerperf.protocol.metrics` checks a body against these; Parquet columns and InfluxDB fields are
derived from them, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from peerperf.protocol.histogram import Scale

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
    #: A mergeable histogram, flat `[bucket, count, ...]` (see `peerperf.protocol.histogram`).
    HISTOGRAM = "histogram"
    #: Counts by name, e.g. packets by subtype: a JSON object of non-negative integers.
    COUNTS = "counts"


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
    #: Bucket scale of a histogram field.
    scale: Scale = Scale.LOG
    #: Host-wide figure repeated on each datapoint of a host's window: count it once per (hostId, window).
    per_host: bool = False
    #: Relayed to InfluxDB. Counts keyed by window number are not: their field names would grow without bound.
    influx: bool = True


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
    MetricField("tickLagP50", Kind.NUMBER, "median tick lateness in the window", "ms", original=False, per_host=True),
    MetricField(
        "tickLagP99", Kind.NUMBER, "99th percentile tick lateness in the window", "ms", original=False, per_host=True
    ),
    MetricField("tickLagMax", Kind.NUMBER, "worst tick lateness in the window", "ms", original=False, per_host=True),
    MetricField(
        "ticksMissed",
        Kind.INTEGER,
        "ticks skipped because the loop fell behind",
        "ticks",
        original=False,
        per_host=True,
    ),
    MetricField(
        "hostCpuPercent",
        Kind.NUMBER,
        "CPU used by the peer's host process",
        "% of a core",
        original=False,
        per_host=True,
    ),
    MetricField(
        "hostMemoryMb", Kind.NUMBER, "resident memory of the peer's host process", "MB", original=False, per_host=True
    ),
    MetricField("room", Kind.TEXT, "room the peer's routine sends to", original=False),
    MetricField(
        "rooms", Kind.TEXT_LIST, "rooms the peer is in when the window closed (they change as it moves)", original=False
    ),
    MetricField(
        "roomMoves", Kind.INTEGER, "room joins and leaves in the window (routines that move)", "moves", original=False
    ),
    MetricField("layer", Kind.TEXT, "layer the peer joined", original=False),
    MetricField("routine", Kind.TEXT, "routine the peer runs", original=False),
    MetricField(
        "kind", Kind.TEXT, "client that produced the datapoint: python (peerperf's) or browser", original=False
    ),
    MetricField("nodeId", Kind.TEXT, "Ray node the peer ran on", original=False),
    MetricField("hostId", Kind.TEXT, "peer-host actor the peer ran in", original=False),
    *(
        MetricField(name, kind, description, unit, original=False)
        for name, kind, description, unit in (
            # Delivery, from per-source sequence numbers (peer/delivery.py): exact loss.
            (
                "uniqueReceived",
                Kind.INTEGER,
                "first arrivals of other peers' packets (any room of the layer)",
                "packets",
            ),
            (
                "missing",
                Kind.INTEGER,
                "other peers' packets declared lost: a sequence gap overdue past a grace period",
                "packets",
            ),
            ("lateArrivals", Kind.INTEGER, "packets that arrived after being declared missing", "packets"),
            ("arrivedExpired", Kind.INTEGER, "first arrivals judged expired (dropped, not delivered)", "packets"),
            (
                "deliveredBySubtype",
                Kind.COUNTS,
                "app messages delivered to a joined room, first arrivals, by subtype",
                "packets",
            ),
            ("originatedBySubtype", Kind.COUNTS, "app messages this peer sent to its rooms, by subtype", "packets"),
            ("originatedOneHop", Kind.INTEGER, "packets created with ttl 1 (suspendRelay): not flooded", "packets"),
            (
                "receivedBySubtype",
                Kind.COUNTS,
                "packets received in the window, every copy, by subtype (ping and pong included)",
                "packets",
            ),
            # Latency of delivered app messages: receive time minus the sender's CommsMessage.time.
            ("latencyPositionMs", Kind.HISTOGRAM, "latency of delivered position messages", "ms"),
            ("latencyProfileMs", Kind.HISTOGRAM, "latency of delivered profile messages", "ms"),
            ("latencyChatMs", Kind.HISTOGRAM, "latency of delivered chat messages", "ms"),
            ("latencyOtherMs", Kind.HISTOGRAM, "latency of delivered messages of other subtypes", "ms"),
            # The mesh.
            ("connectSetupMs", Kind.HISTOGRAM, "connection set-up time, offer to open data channel", "ms"),
            (
                "joinMs",
                Kind.HISTOGRAM,
                "lighthouse join time (connect and validate, layer, room), in the peer's first window",
                "ms",
            ),
            ("connectionFailures", Kind.INTEGER, "connections that closed without ever opening", "connections"),
            ("connectionRejects", Kind.COUNTS, "connections the other side rejected, by reason", "connections"),
            ("reconnections", Kind.INTEGER, "reconnections to the lighthouse", "reconnections"),
            ("pingRounds", Kind.INTEGER, "ping rounds this peer started in the window", "rounds"),
            ("routineErrors", Kind.INTEGER, "routine calls that raised", "calls"),
            ("connectedPeersCount", Kind.INTEGER, "len(connectedPeers): read without the ids", "connections"),
            ("clockOffsetMs", Kind.NUMBER, "host clock minus the results service's clock (min-RTT estimate)", "ms"),
            ("clockErrorMs", Kind.NUMBER, "uncertainty of clockOffsetMs: half the best round trip", "ms"),
        )
    ),
    MetricField(
        "hops", Kind.HISTOGRAM, "hops travelled by delivered app messages", "hops", original=False, scale=Scale.LINEAR
    ),
    # Delivery by origin window (peer/origin_windows.py): a packet counts for the window its timestamp falls
    # in, on sender and receivers alike. Key `"12"`: flooded packets (ttl > 1) of origin window 12; key
    # `"12/position"`: the app messages to rooms among them, by subtype.
    MetricField(
        "originatedByWindow",
        Kind.COUNTS,
        "flooded packets this peer created, by origin window (and app messages, by window/subtype)",
        "packets",
        original=False,
        influx=False,
    ),
    MetricField(
        "arrivedByWindow",
        Kind.COUNTS,
        "first arrivals of other peers' flooded packets, by origin window (and app messages delivered to a "
        "joined room, by window/subtype)",
        "packets",
        original=False,
        influx=False,
    ),
    *(
        MetricField(name, kind, description, unit, original=False, per_host=True)
        for name, kind, description, unit in (
            # Harness health: the host's own evidence, one value per host and window.
            ("window", Kind.INTEGER, "the host's stats window number (1, 2, ...)", ""),
            ("stage", Kind.INTEGER, "the stage (--stages, 1 first) in which the window closed (none: no stages)", ""),
            ("stageTarget", Kind.NUMBER, "the active peers the stages asked for when the window closed", "peers"),
            ("tickLagMs", Kind.HISTOGRAM, "tick lateness of the host's 60 Hz loop", "ms"),
            ("hostOpenFds", Kind.INTEGER, "open file descriptors of the host process", "fds"),
            ("machineCpuPercent", Kind.NUMBER, "whole machine busy share over the window", "% of all cores"),
            ("machineCpus", Kind.INTEGER, "CPUs of the machine", "cores"),
            ("machineLoad1", Kind.NUMBER, "the machine's 1-minute load average", ""),
        )
    ),
    # Network impairment (issue 15): the profile, and what it did to the peer's datagrams since it started.
    MetricField("impairment", Kind.TEXT, "impairment profile the peer ran behind (empty: none)", original=False),
    *(
        MetricField(name, Kind.INTEGER, description, "datagrams", original=False)
        for name, description in (
            ("datagramsSent", "UDP datagrams the peer sent, before impairment"),
            ("datagramsReceived", "UDP datagrams that reached the peer, before impairment"),
            ("datagramsDropped", "datagrams the impairment lost"),
            ("datagramsQueueDropped", "datagrams dropped by the rate cap's full queue"),
            ("datagramsDelayed", "datagrams held back by delay or the rate cap"),
            ("datagramsDuplicated", "datagrams delivered twice"),
            ("datagramsFailed", "held datagrams whose delivery raised: a harness error (see the host's log)"),
        )
    ),
    # Harness errors (issue 13): unexpected exceptions in background work, logged where they happened.
    MetricField(
        "harnessErrors",
        Kind.INTEGER,
        "unexpected exceptions in the peer's loops and tasks in the window (see the host's log)",
        "errors",
        original=False,
    ),
    MetricField(
        "silentLinks",
        Kind.TEXT_LIST,
        "connected peers from which nothing arrived on the link for SILENT_LINK_S: a stalled direction no "
        "sequence gap shows (a harness fault; peer/connections.py)",
        "peers",
        original=False,
        influx=False,
    ),
    MetricField(
        "hostHarnessErrors",
        Kind.INTEGER,
        "unexpected exceptions in the host's own loops in the window (see the host's log)",
        "errors",
        original=False,
        per_host=True,
    ),
)
BY_NAME = {f.name: f for f in FIELDS}
