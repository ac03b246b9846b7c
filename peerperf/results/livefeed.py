"""The live page's figures: a results sink that keeps, per test, what a person watching a run wants to see.

Each peer's latest window (rates, connections, latency histograms), each host's latest health
figures, the run's running totals of unique arrivals and losses, and every host window so far for
the harness verdict (`analysis.live_verdict`: the summary's own rules, over the whole run so far).
`sample()` turns them into one point of every chart, at most one per second per test, with the
verdict so far; the last hour of samples is kept so a page opened mid-run draws the run from the start.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from peerperf.analysis.live_verdict import LiveVerdict
from peerperf.analysis.verdict import RunFacts
from peerperf.protocol.histogram import Histogram
from peerperf.protocol.wallclock import now_ms_int
from peerperf.results.model import DataPoint

#: Samples kept per test (one a second).
HISTORY = 3600
#: A peer whose latest datapoint is older than this no longer counts as reporting.
STALE_MS = 10_000
LATENCY_SUBTYPES = ("position", "profile", "chat")


@dataclass
class _TestFigures:
    peers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    #: Each host's latest tick-lag p99 and CPU (None: not reported), for the charts.
    hosts: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    harness: LiveVerdict = field(default_factory=LiveVerdict)
    harness_errors: int | None = None
    unique: int = 0
    missing: int = 0
    late: int = 0
    datapoints: int = 0
    lost: int = 0
    started: int | None = None
    finished: int | None = None
    #: The peers that reported each of the last windows, and the stages' target then (`--stages`).
    windows: dict[int, set[str]] = field(default_factory=dict)
    targets: dict[int, float] = field(default_factory=dict)
    samples: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY))


class LiveFeed:
    """Keeps the figures of every test it was told about; cheap to feed (no I/O)."""

    def __init__(self) -> None:
        self._tests: dict[str, _TestFigures] = {}

    def _test(self, test_id: str) -> _TestFigures:
        return self._tests.setdefault(test_id, _TestFigures())

    def datapoints(self, test_id: str, points: Sequence[DataPoint]) -> None:
        figures = self._test(test_id)
        for point in points:
            metrics = point.metrics
            figures.peers[point.peer_id] = (point.timestamp, metrics)
            figures.datapoints += 1
            figures.unique += int(metrics.get("uniqueReceived") or 0)
            figures.missing += int(metrics.get("missing") or 0)
            figures.late += int(metrics.get("lateArrivals") or 0)
            _note_window(figures, point.peer_id, metrics)
            host = metrics.get("hostId")
            if isinstance(host, str) and host:
                figures.hosts[host] = (_number(metrics.get("tickLagP99")), _number(metrics.get("hostCpuPercent")))
            fresh_host_window = figures.harness.datapoint(metrics, point.timestamp)
            errors = int(metrics.get("harnessErrors") or 0) + (
                int(metrics.get("hostHarnessErrors") or 0) if fresh_host_window else 0
            )
            if "harnessErrors" in metrics or "hostHarnessErrors" in metrics:
                figures.harness_errors = (figures.harness_errors or 0) + errors

    def event(self, test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> None:
        figures = self._test(test_id)
        if name == "start":
            figures.started = at_ms
        elif name == "finish":
            figures.finished = at_ms
        elif name == "peers_lost":
            figures.lost = int(fields.get("count", 0))

    def tests(self) -> list[str]:
        """Ids of the tests with figures, newest first."""
        return list(reversed(self._tests))

    def knows(self, test_id: str) -> bool:
        return test_id in self._tests

    def history(self, test_id: str) -> list[dict[str, Any]]:
        return list(self._test(test_id).samples)

    def sample(self, test_id: str, now_ms: int | None = None) -> dict[str, Any]:
        """The charts' point for now (recorded in the history once per second) with the verdict so far."""
        figures = self._test(test_id)
        now_ms = now_ms_int() if now_ms is None else now_ms
        fresh = [m for at, m in figures.peers.values() if now_ms - at <= STALE_MS]
        connections = [float(m.get("connectedPeersCount", len(m.get("connectedPeers") or ()))) for m in fresh]
        sample: dict[str, Any] = {
            "t": now_ms // 1000,
            "originatedPerSecond": sum(float(m.get("originatedPerSecond") or 0) for m in fresh),
            "receivedPerSecond": sum(float(m.get("receivedPerSecond") or 0) for m in fresh),
            "arrivedShare": _ratio(figures.unique, figures.unique + figures.missing - figures.late),
            "connections": sum(connections) / len(connections) if connections else None,
            "latencyP99": {s: _p99(fresh, f"latency{s.capitalize()}Ms") for s in LATENCY_SUBTYPES},
            "tickLagP99": {host: lag for host, (lag, _) in sorted(figures.hosts.items())},
            "cpuPercent": {host: cpu for host, (_, cpu) in sorted(figures.hosts.items())},
            "peersReporting": len(fresh),
            "peersLost": figures.lost,
            **_active(figures),
        }
        if not figures.samples or figures.samples[-1]["t"] < sample["t"]:
            figures.samples.append(sample)
        return {**sample, "status": self.status(test_id), "verdict": self.verdict(test_id)}

    def status(self, test_id: str) -> dict[str, Any]:
        figures = self._test(test_id)
        return {"started": figures.started, "finished": figures.finished, "datapoints": figures.datapoints}

    def verdict(self, test_id: str) -> dict[str, Any]:
        """The harness verdict over the run so far (the summary's rules and thresholds), with loss."""
        figures = self._test(test_id)
        facts = RunFacts(harness_errors=figures.harness_errors, peers_lost=figures.lost)
        verdict = figures.harness.verdict(facts)
        total = figures.unique + figures.missing - figures.late
        return {
            "harness": str(verdict.status),
            "reasons": verdict.reasons,
            "evidence": verdict.evidence,
            "loss": _ratio(figures.missing - figures.late, total),
            "arrivedShare": _ratio(figures.unique, total),
            "peersLost": figures.lost,
        }


#: Windows a test's active peers are kept for.
KEPT_WINDOWS = 4


def _note_window(figures: _TestFigures, peer_id: str, metrics: dict[str, Any]) -> None:
    window = metrics.get("window")
    if not isinstance(window, int):
        return
    figures.windows.setdefault(window, set()).add(peer_id)
    target = _number(metrics.get("stageTarget"))
    if target is not None:
        figures.targets[window] = target
    for old in [w for w in figures.windows if w <= window - KEPT_WINDOWS]:
        figures.windows.pop(old)
        figures.targets.pop(old, None)


def _active(figures: _TestFigures) -> dict[str, Any]:
    """The peers that reported the last window every host has submitted (the one before the latest: hosts
    submit a window up to a second after its end), and the stages' target then (None: no stages)."""
    if not figures.windows:
        return {"peersActive": None, "peersTarget": None}
    latest = max(figures.windows)
    window = latest - 1 if latest - 1 in figures.windows else latest
    return {"peersActive": len(figures.windows[window]), "peersTarget": figures.targets.get(window)}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _p99(metrics: list[dict[str, Any]], key: str) -> float | None:
    merged = Histogram()
    for m in metrics:
        if m.get(key):
            merged.merge(Histogram.decode(m[key]))
    value = merged.percentile(99)
    return None if math.isnan(value) else value
