"""Writes peerperf's Grafana dashboards (`dashboards/*.json`) from the panel list below: `python grafana/generate.py`.

Every panel is a title, a unit and InfluxQL queries over the relay's schema (docs/usage/live-view.md, "Schema"):
measurement `peer_metrics` tagged by test, peer, node, host, room, layer, routine and impairment, and
`run_events`. The `test` variable selects one or more runs; every query groups by `test`, so runs
are drawn side by side. A test runs every query against a real InfluxDB holding a real run.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASOURCE_UID = "peerperf-influxdb"
DATASOURCE = {"type": "influxdb", "uid": DATASOURCE_UID}
WHERE = """"test" =~ /^$test$/ AND $timeFilter"""


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]  # (legend alias, InfluxQL)
    description: str = ""


def per_peer_sum(field: str) -> str:
    """The sum over peers of each peer's mean in the interval (peers report every stats interval)."""
    return (
        f'SELECT sum("v") FROM (SELECT mean("{field}") AS "v" FROM "peer_metrics" WHERE {WHERE} '
        f'GROUP BY time($__interval), "peer", "test") GROUP BY time($__interval), "test" fill(none)'
    )


def aggregate(select: str, by: str = '"test"') -> str:
    return f'SELECT {select} FROM "peer_metrics" WHERE {WHERE} GROUP BY time($__interval), {by} fill(none)'


#: Latency histograms by subtype (a subtype with no message in an interval has no field there).
LATENCY = (("position", "latencyPositionMs"), ("profile", "latencyProfileMs"), ("chat", "latencyChatMs"))
LOSS = '(sum("missing") - sum("lateArrivals")) / (sum("uniqueReceived") + sum("missing") - sum("lateArrivals"))'
ARRIVED = 'sum("uniqueReceived") / (sum("uniqueReceived") + sum("missing") - sum("lateArrivals"))'

RUNS = (
    Panel(
        "Packets originated per second",
        "pps",
        (("originated $tag_test", per_peer_sum("originatedPerSecond")),),
        "Packets created by all peers (each counted once).",
    ),
    Panel(
        "Packets sent and received per second",
        "pps",
        (("sent $tag_test", per_peer_sum("sentPerSecond")), ("received $tag_test", per_peer_sum("receivedPerSecond"))),
        "As the original counted: one `sent` per connection a packet goes out on.",
    ),
    Panel(
        "Delivery and loss",
        "percentunit",
        (
            ("arrived $tag_test", aggregate(f'{ARRIVED} AS "arrived"')),
            ("loss $tag_test", aggregate(f'{LOSS} AS "loss"')),
        ),
        "From per-source sequence numbers: loss = (missing - late) / (unique + missing - late).",
    ),
    Panel(
        "Latency p99 per subtype (worst peer window)",
        "ms",
        (("$col $tag_test", aggregate(", ".join(f'max("{field}_p99") AS "{name}"' for name, field in LATENCY))),),
        "Each peer window's p99 from its histogram; the run's exact percentiles are in `peerperf summary`.",
    ),
    Panel(
        "Latency p50 per subtype (mean of peer windows)",
        "ms",
        (("$col $tag_test", aggregate(", ".join(f'mean("{field}_p50") AS "{name}"' for name, field in LATENCY))),),
    ),
    Panel(
        "Connections per peer",
        "short",
        (
            ("mean $tag_test", aggregate('mean("connectedPeersCount") AS "mean"')),
            ("min $tag_test", aggregate('min("connectedPeersCount") AS "min"')),
        ),
    ),
    Panel(
        "Duplicates and expired per second",
        "pps",
        (
            ("duplicate $tag_test", per_peer_sum("duplicatePerSecond")),
            ("expired $tag_test", per_peer_sum("expiredPerSecond")),
        ),
    ),
    Panel(
        "Connection set-up p99 and failures",
        "ms",
        (
            ("set-up p99 $tag_test", aggregate('max("connectSetupMs_p99") AS "setup"')),
            ("failures $tag_test", aggregate('sum("connectionFailures") AS "failures"')),
        ),
    ),
)

HARNESS = (
    Panel(
        "Tick lag p99 per host",
        "ms",
        (("$tag_host $tag_test", aggregate('max("tickLagP99") AS "lag"', '"test", "host"')),),
        "Above 33 ms (two 60 Hz periods) the harness, not the network, limits the run.",
    ),
    Panel(
        "Host process CPU per host",
        "percent",
        (("$tag_host $tag_test", aggregate('max("hostCpuPercent") AS "cpu"', '"test", "host"')),),
        "% of one core; at 90 % or more a host is CPU-bound.",
    ),
    Panel(
        "Ticks missed per host",
        "short",
        (("$tag_host $tag_test", aggregate('max("ticksMissed") AS "missed"', '"test", "host"')),),
    ),
    Panel(
        "Host memory per host",
        "decmbytes",
        (("$tag_host $tag_test", aggregate('max("hostMemoryMb") AS "memory"', '"test", "host"')),),
    ),
    Panel(
        "Peers reporting per node",
        "short",
        (("$tag_node $tag_test", aggregate('count("sent") AS "datapoints"', '"test", "node"')),),
        "Datapoints per interval by Ray node: a node that stops reporting shows here.",
    ),
    Panel(
        "Run events",
        "short",
        (("$tag_event $tag_test", f'SELECT "count" FROM "run_events" WHERE {WHERE} GROUP BY "test", "event"'),),
        "start, finish, and peers lost when their host failed.",
    ),
)


def _panel(number: int, panel: Panel) -> dict[str, object]:
    return {
        "id": number,
        "type": "timeseries",
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((number - 1) % 2), "y": 8 * ((number - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "rawQuery": True, "query": query, "alias": alias}
            for i, (alias, query) in enumerate(panel.queries)
        ],
    }


def dashboard(uid: str, title: str, panels: tuple[Panel, ...]) -> dict[str, object]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["peerperf"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5s",
        "time": {"from": "now-30m", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "test",
                    "label": "test",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": 'SHOW TAG VALUES FROM "peer_metrics" WITH KEY = "test"',
                    "refresh": 2,
                    "multi": True,
                    "includeAll": False,
                    "sort": 2,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": [_panel(number, panel) for number, panel in enumerate(panels, 1)],
    }


DASHBOARDS = {
    "peerperf-runs.json": dashboard("peerperf-runs", "peerperf: runs side by side", RUNS),
    "peerperf-harness.json": dashboard("peerperf-harness", "peerperf: harness health per host", HARNESS),
}


def rendered(doc: dict[str, object]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def main() -> int:
    for name, doc in DASHBOARDS.items():
        (HERE / "dashboards" / name).write_text(rendered(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
