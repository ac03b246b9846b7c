"""A run's verdict: delivery, loss, latency, throughput, the mesh, and the harness's own health.

`summary(frame)` reads the steady state (see `peerperf.analysis.windows`) and returns a `Summary`: every
figure under a dotted name (`delivery`, `latency.position.p99`, `harness`), with its unit and the
direction that is better, plus the harness verdict with its evidence. The run's own summary, the
assertions, the comparison and the report all read this one object. What each figure is lives in
`figures`, the counts of who reported in `run_counts`, summaries by group in `groups`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peerperf.analysis.browser_hosts import from_metadata
from peerperf.analysis.figures import Metric, figures
from peerperf.analysis.health import harness_verdict
from peerperf.analysis.host_windows import from_records
from peerperf.analysis.peers import LATENCY_COLUMNS, RATES
from peerperf.analysis.prepared import Prepared, prepare
from peerperf.analysis.run_counts import counts, setup_and_failures
from peerperf.analysis.verdict import RunFacts, Verdict, judge
from peerperf.analysis.windows import SteadyState
from peerperf.protocol.metrics import SILENT_LINK_S

#: The columns a summary reads (`load(path, columns=COLUMNS)` skips the rest of a big test).
COLUMNS = (
    *("peerId", "timestamp", "window", "kind", "hostId", "nodeId", "layer", "room", "connectedPeersCount"),
    *("originated", "originatedOneHop", "originatedBySubtype", "uniqueReceived", "missing", "lateArrivals"),
    *("arrivedExpired", "deliveredBySubtype", "received", "duplicate", *RATES.values(), *LATENCY_COLUMNS.values()),
    *("hops", "connectSetupMs", "joinMs", "connectionFailures", "connectionRejects", "reconnections", "routineErrors"),
    *("tickLagMs", "tickLagP99", "ticksMissed", "hostCpuPercent", "machineCpuPercent", "machineCpus", "extra"),
    *("clockOffsetMs", "clockErrorMs", "harnessErrors", "hostHarnessErrors", "receivedBySubtype"),
    *("originatedByWindow", "arrivedByWindow", "rooms", "roomMoves", "silentLinks"),
)


@dataclass(frozen=True)
class Summary:
    """What a test (or several, pooled) measured, and whether the harness could be trusted."""

    test_ids: list[str]
    metrics: dict[str, Metric]
    verdict: Verdict
    steady_state: SteadyState
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> float | int | str:
        return self.metrics[name].value

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics.values())

    def get(self, name: str, default: float | int | str | None = None) -> float | int | str | None:
        metric = self.metrics.get(name)
        return default if metric is None else metric.value

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: figures by name, the verdict and its evidence, how the steady state was chosen."""
        return {
            "tests": self.test_ids,
            "metrics": {m.name: _plain(m.value) for m in self},
            "units": {m.name: m.unit for m in self if m.unit},
            "harness": self.verdict.to_dict(),
            "steadyState": self.steady_state.describe(),
            "notes": self.notes,
            "settings": self.settings,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per figure: name, label, value, unit."""
        return pd.DataFrame(
            [(m.name, m.label, m.value, m.unit) for m in self], columns=["name", "label", "value", "unit"]
        ).set_index("name")


def _plain(value: float | int | str) -> float | int | str | None:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def summary(
    frame: pd.DataFrame,
    *,
    warmup_windows: int | None = None,
    keep_last: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Summary:
    """Summarise datapoints (one test or several pooled); `metadata`: what `results_files.metadata` read."""
    metadata = metadata or {}
    if frame.empty:
        verdict = judge(from_records([]), run_facts({}, metadata))
        return Summary([], {}, verdict, SteadyState(0, keep_last, 0.0, 0), metadata.get("settings", {}))
    return summarise(prepare(frame, warmup_windows, keep_last), metadata)


def summarise(prepared: Prepared, metadata: dict[str, Any] | None = None) -> Summary:
    """The summary of prepared datapoints (see `prepared.prepare`)."""
    metadata = metadata or {}
    ours, body, samples = prepared.ours, prepared.body, prepared.samples
    notes = list(prepared.notes)
    metrics = counts(prepared, metadata)
    metrics.update(figures(samples))
    if not samples.table["hasDelivery"].any():
        notes.append("no delivery counts in these datapoints (older peers, or another client): delivery is unknown")
    elif prepared.delivery is None:
        notes.append(
            "delivery counted by stats window (these datapoints have no counts by origin window): packets in "
            "flight across a window's edge count on one side only"
        )
    notes += data_path_notes(metadata.get("settings", {}))
    notes += silent_link_notes(prepared.numbered)
    metrics.update(setup_and_failures(ours))
    verdict = harness_verdict(body, ours, run_facts(metrics, metadata), prepared.state.interval_s)
    metrics["harness"] = Metric("harness", "harness verdict", str(verdict.status))
    test_ids = sorted(str(t) for t in prepared.numbered["testId"].unique())
    return Summary(test_ids, metrics, verdict, prepared.state, dict(metadata.get("settings", {})), notes)


def data_path_notes(settings: dict[str, Any]) -> list[str]:
    """A warning when the run asked for a faster data path than its peers ran (peerperf/peer/data_path.py)."""
    asked, ran = settings.get("data_path"), settings.get("data_path_ran")
    if asked is None or ran is None or asked == ran:
        return []
    return [
        f"the peers ran the {ran} data path, not {asked}: the C extension is not built or aiortc's internals "
        f"differ from the pinned release, so CPU figures are the {ran} path's (`peerperf --version` says why)"
    ]


def silent_link_notes(frame: pd.DataFrame) -> list[str]:
    """A warning naming the links that stayed connected while nothing arrived over them (`silentLinks`)."""
    if "silentLinks" not in frame or "peerId" not in frame:
        return []
    pairs = sorted(
        {
            (str(source), str(receiver))
            for receiver, sources in zip(frame["peerId"], frame["silentLinks"], strict=True)
            if isinstance(sources, list | tuple | np.ndarray)
            for source in np.ravel(sources)
        }
    )
    if not pairs:
        return []
    shown = ", ".join(f"{source[:8]} -> {receiver[:8]}" for source, receiver in pairs[:5])
    more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
    return [
        f"{len(pairs)} link direction(s) delivered nothing for {SILENT_LINK_S:g} s or more while listed as "
        f"connected ({shown}{more}): a harness fault this run cannot vouch for (`silentLinks` in the datapoints)"
    ]


def run_facts(metrics: dict[str, Metric], metadata: dict[str, Any]) -> RunFacts:
    """The harness's failures the verdict counts: from the figures, and what the run recorded."""

    def count(name: str) -> int:
        value = metrics[name].value if name in metrics else 0
        return int(value) if isinstance(value, int | float) and not math.isnan(value) else 0

    return RunFacts(
        harness_errors=count("harness.errors") if "harness.errors" in metrics else None,
        peers_lost=len(metadata["lostPeers"] or {}) if "lostPeers" in metadata else None,
        peers_dropped_out=count("peers.dropped_out") if "peers.dropped_out" in metrics else None,
        peers_never_reported=count("peers.never_reported") if "peerIds" in metadata else None,
        peers_restarted=count("peers.restarted") if "peers.restarted" in metrics else None,
        datapoints_refused=int(metadata["rejectedDatapoints"] or 0) if "rejectedDatapoints" in metadata else None,
        browser_hosts=from_metadata(metadata),
    )
