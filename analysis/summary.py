"""A run's verdict: delivery, loss, latency, throughput, the mesh, and the harness's own health.

`summary(frame)` reads the steady state (see `peerperf.analysis.windows`) and returns a `Summary`: every
figure under a dotted name (`delivery`, `latency.position.p99`, `harness`), with its unit and the
direction that is better, plus the harness verdict with its evidence. The run's own summary, the
assertions, the comparison and the report all read this one object.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peerperf.analysis.browser_hosts import from_metadata
from peerperf.analysis.health import harness_verdict
from peerperf.analysis.histograms import bucket_counts, percentiles
from peerperf.analysis.host_windows import from_records
from peerperf.analysis.peers import LATENCY_COLUMNS, RATES, PeerSamples, counts_table, peer_samples, subset
from peerperf.analysis.prepared import Prepared, prepare
from peerperf.analysis.statistics import FromHistogram, Mean, Ratio, Statistic, evaluate
from peerperf.analysis.verdict import RunFacts, Verdict, judge
from peerperf.analysis.windows import SteadyState, kinds, steady
from peerperf.protocol.histogram import Scale
from peerperf.protocol.metrics import SILENT_LINK_S

#: The columns a summary reads (`load(path, columns=COLUMNS)` skips the rest of a big test).
COLUMNS = (
    *("peerId", "timestamp", "window", "kind", "hostId", "nodeId", "layer", "room", "connectedPeersCount"),
    *("originated", "originatedOneHop", "originatedBySubtype", "uniqueReceived", "missing", "lateArrivals"),
    *("arrivedExpired", "deliveredBySubtype", "received", "duplicate", *RATES.values(), *LATENCY_COLUMNS.values()),
    *("hops", "connectSetupMs", "joinMs", "connectionFailures", "connectionRejects", "reconnections", "routineErrors"),
    *("tickLagMs", "tickLagP99", "ticksMissed", "hostCpuPercent", "machineCpuPercent", "machineCpus", "extra"),
    *("clockOffsetMs", "clockErrorMs", "harnessErrors", "hostHarnessErrors", "receivedBySubtype"),
    *("originatedByWindow", "arrivedByWindow", "rooms", "roomMoves"),
)


@dataclass(frozen=True)
class Metric:
    """One figure of a summary."""

    name: str
    label: str
    value: float | int | str
    unit: str = ""
    #: "higher" or "lower" when one direction is better, "" when neither is.
    better: str = ""


@dataclass(frozen=True)
class Definition:
    """A figure computed from per-peer samples (so comparisons can resample it)."""

    name: str
    label: str
    statistic: Statistic
    unit: str = ""
    better: str = ""
    #: Smallest difference that matters (absolute), or as a share of the value when `relative`.
    resolution: float = 0.0
    relative: bool = False


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


def definitions(subtypes: list[str]) -> list[Definition]:
    """The per-peer figures, in the order a person reads them."""
    out = [
        # 0.1 %: delivery is counted exactly by origin window (no stats-window edges), as loss by sequence gaps.
        Definition(
            "delivery", "delivery ratio (layer, every packet)", Ratio("arrived", "expected"), "", "higher", 0.001
        ),
        *(
            Definition(
                f"delivery.{s}",
                f"delivery ratio to rooms: {s}",
                Ratio(f"arrived.{s}", f"expected.{s}"),
                "",
                "higher",
                0.001,
            )
            for s in subtypes
        ),
        Definition("loss", "loss (sequence gaps)", Ratio("lost", "unique", "lost"), "", "lower", 0.001),
        Definition("expired", "arrived expired", Ratio("arrivedExpired", "unique"), "", "lower", 0.001),
        Definition("duplicates", "duplicate copies", Ratio("duplicateWindow", "receivedWindow"), "", "lower", 0.01),
    ]
    for subtype in LATENCY_COLUMNS:
        for pct in (50, 95, 99, 100):
            name = "max" if pct == 100 else f"p{pct}"
            out.append(
                Definition(
                    f"latency.{subtype}.{name}",
                    f"latency {subtype} {name}",
                    FromHistogram(f"latency.{subtype}", pct),
                    "ms",
                    "lower",
                    0.05,
                    relative=True,
                )
            )
    out += [
        Definition(f"throughput.{name}", f"{name} per peer", Mean(f"rate.{name}"), "packets/s", "", 0.01, relative=True)
        for name in RATES
    ]
    out += [
        Definition("connections", "connections per peer", Mean("connections"), "", "", 0.05),
        Definition("hops.mean", "hops, mean", FromHistogram("hops", None, Scale.LINEAR), "hops", "lower", 0.05),
        Definition("hops.p99", "hops, p99", FromHistogram("hops", 99, Scale.LINEAR), "hops", "lower", 0.5),
    ]
    return out


def summary(
    frame: pd.DataFrame,
    *,
    warmup_windows: int | None = None,
    keep_last: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Summary:
    """Summarise datapoints (one test or several pooled); `metadata` is what `peerperf.analysis.load.metadata` read."""
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
    metrics = _counts(prepared, metadata)
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
    metrics.update(_setup(ours))
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


def figures(samples: PeerSamples) -> dict[str, Metric]:
    """Every per-peer figure (delivery, loss, latency, throughput, mesh) over the peers of `samples`."""
    out = {}
    for definition in definitions(samples.subtypes):
        if definition.name.startswith("latency.") and _empty(samples, definition):
            continue
        value = evaluate(definition.statistic, samples)
        out[definition.name] = Metric(definition.name, definition.label, value, definition.unit, definition.better)
    return out


def summaries_by(frame: pd.DataFrame, column: str, **options: Any) -> dict[str, Summary]:
    """One summary per value of a datapoint column, values in order (`stage` 1, 2, ...; `impairment`, `room`).

    A column that can change during a peer's run (`stage`) groups datapoints: a group's figures are
    those of its windows, delivery counted to them as receivers. Otherwise it groups peers (`impairment`,
    `routine`, `nodeId`...): a group's figures are those of its peers as receivers. Delivery still counts
    what every peer of the layer sent, whatever its group. The harness verdict is the whole run's.
    """
    if column not in frame and column != "kind":  # every datapoint has a kind (`windows.kinds`)
        raise KeyError(f"the datapoints have no column {column!r}")
    warmup, keep_last = options.get("warmup_windows"), options.get("keep_last", False)
    prepared = prepare(frame, warmup, keep_last)
    if not _varies_within_peers(prepared.ours, column):
        return group_summaries(prepared, column, options.get("metadata"))
    whole = summarise(prepared, options.get("metadata"))
    out = {}
    for value in _values(prepared.ours[column]):
        part = prepare(frame, warmup, keep_last, group=(column, value))
        metrics = {
            "peers": Metric(
                "peers", "peers reporting in the group's steady windows", int(part.body["peerId"].nunique())
            ),
            "datapoints": Metric("datapoints", "steady datapoints in the group", len(part.body)),
            **(figures(part.samples) if len(part.body) else {}),
        }
        metrics.update(_setup(prepared.ours[(prepared.ours[column] == value).to_numpy()]))
        if part.delivery is not None:
            metrics["delivery.windows"] = Metric(
                "delivery.windows", "origin windows delivery counts", part.delivery.windows
            )
        metrics["harness"] = whole.metrics["harness"]
        out[group_label(value)] = Summary(
            whole.test_ids, metrics, whole.verdict, whole.steady_state, whole.settings, whole.notes
        )
    return out


def mixed_kinds(frame: pd.DataFrame) -> bool:
    """Whether the datapoints hold more than one kind of peer (python and browser): worth a row per kind."""
    return len(frame) > 0 and kinds(frame).nunique() > 1


def group_label(value: Any) -> str:
    """How a group's value is named (and matched by `--assert 'COLUMN:VALUE.metric'`): 2.0 -> '2'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _values(column: pd.Series) -> list[Any]:
    """A column's distinct values, in order (numbers as numbers)."""
    return sorted(column.dropna().unique().tolist())


def _varies_within_peers(frame: pd.DataFrame, column: str) -> bool:
    return bool((frame.groupby(["testId", "peerId"], observed=True)[column].nunique() > 1).any())


def group_summaries(prepared: Prepared, column: str, metadata: dict[str, Any] | None = None) -> dict[str, Summary]:
    """The summary of each group of peers by `column` (see `summaries_by`); another client's peers (`kind`
    browser) make groups of their own, from the figures their datapoints carry."""
    whole = summarise(prepared, metadata)
    out = {}
    for value, part in all_groups(prepared, column).items():
        metrics = {"peers": Metric("peers", "peers in the group", len(part.table)), **figures(part)}
        metrics["harness"] = whole.metrics["harness"]
        notes = whole.notes if value in ours_values(prepared, column) else [*whole.notes, OTHER_CLIENT_NOTE]
        out[value] = Summary(whole.test_ids, metrics, whole.verdict, whole.steady_state, whole.settings, notes)
    return out


#: Why another client's group has no delivery, loss or latency.
OTHER_CLIENT_NOTE = (
    "another client's peers (the original's browser client) report packet counts and rates only: no delivery, "
    "loss or latency (the original tags no copy of the newest unreliable packet as a duplicate, so its "
    "received counts hold copies)"
)


def all_groups(prepared: Prepared, column: str) -> dict[str, PeerSamples]:
    """Each group's per-peer samples, in sorted order: our peers' groups, then values only another client has."""
    out = groups_of(prepared, column)
    others = prepared.others
    if others.empty or column not in others or others[column].isna().all():
        return out
    body, _ = steady(others, prepared.state.warmup_windows, prepared.state.keep_last)  # our steady windows
    for value in _values(body[column]):
        if group_label(value) not in out:  # a value both have is our peers': their figures are the measurement
            out[group_label(value)] = peer_samples(body[(body[column] == value).to_numpy()], others)
    return dict(sorted(out.items()))


def ours_values(prepared: Prepared, column: str) -> set[str]:
    """The values of `column` among our peers' datapoints (as `groups_of` names them)."""
    return {str(v) for v in prepared.ours[column].unique()} if column in prepared.ours else set()


def groups_of(prepared: Prepared, column: str) -> dict[str, PeerSamples]:
    """The per-peer samples of each value of a peer's `column`, in sorted order."""
    values = prepared.ours.groupby(["testId", "peerId"], observed=True)[column].first()
    keys = pd.MultiIndex.from_frame(prepared.samples.table[["testId", "peerId"]])
    group = values.reindex(keys).astype(str).to_numpy()
    return {
        value: subset(prepared.samples, [i for i, g in enumerate(group) if g == value]) for value in sorted(set(group))
    }


def _empty(samples: PeerSamples, definition: Definition) -> bool:
    statistic = definition.statistic
    if isinstance(statistic, FromHistogram):
        counts = samples.histograms.get(statistic.histogram)
        return counts is None or counts.sum() == 0
    return False


def _counts(prepared: Prepared, metadata: dict[str, Any]) -> dict[str, Metric]:
    """Who reported, over how long, and who did not; other clients' peers counted apart."""
    frame, body, others = prepared.ours, prepared.body, prepared.others
    seen = set(prepared.numbered["peerId"].astype(str).unique())
    last_window = frame.groupby(["testId", "peerId"], observed=True)["window"].max()
    final = frame.groupby("testId", observed=True)["window"].max()
    # Explained apart: peers lost with their host, first instances a restarted host replaced, and peers that
    # left as the stages planned (`departedPeers`: they did not drop out).
    lost, restarted = set(metadata.get("lostPeers") or {}), set(metadata.get("restartedPeers") or {})
    ended = lost | restarted | set(metadata.get("departedPeers") or [])
    dropped = sorted(
        str(peer) for (test, peer), window in last_window.items() if window < final[test] - 1 and str(peer) not in ended
    )
    expected = metadata.get("peerIds") or []
    never = sorted(set(expected) - seen)
    span = (body["timestamp"].max() - body["timestamp"].min()) / 1000 if len(body) else 0.0
    out = [
        Metric("peers", "peers reporting", frame["peerId"].nunique()),
        *([Metric("layers", "peers reporting, by layer", describe_layers(frame))] if "layer" in frame else []),
        Metric("datapoints", "datapoints", len(frame)),
        Metric("duration", "steady state measured", round(float(span), 1), "s"),
        Metric("peers.dropped_out", "peers that stopped reporting early", len(dropped), "", "lower"),
        Metric("peers.never_reported", "peers that never reported", len(never), "", "lower"),
    ]
    if "restartedPeers" in metadata:
        out.append(Metric("peers.restarted", "peers restarted when their host failed", len(restarted), "", "lower"))
    if not others.empty:
        out.append(
            Metric(
                "peers.browser", "peers of another client (the original's browser client)", others["peerId"].nunique()
            )
        )
        out.append(Metric("datapoints.browser", "datapoints of another client (counted apart)", len(others)))
    if prepared.delivery is not None:
        out.append(Metric("delivery.windows", "origin windows delivery counts", prepared.delivery.windows))
    numbered = prepared.numbered
    if "extra" in numbered and numbered["extra"].notna().any():
        extras = numbered["extra"].dropna()
        keys = sorted({key for text in extras.unique() for key in json.loads(text)})
        out.append(
            Metric("datapoints.unknown_keys", f"datapoints with unknown metric keys ({', '.join(keys)})", len(extras))
        )
    if "clockOffsetMs" in frame and frame["clockOffsetMs"].notna().any():
        offsets = pd.to_numeric(frame["clockOffsetMs"], errors="coerce")
        errors = pd.to_numeric(frame.get("clockErrorMs", pd.Series(dtype=float)), errors="coerce")
        out.append(
            Metric(
                "clock.spread", "host clock offsets, max - min (corrected)", float(offsets.max() - offsets.min()), "ms"
            )
        )
        out.append(Metric("clock.error", "clock correction uncertainty, worst", float(errors.max()), "ms", "lower"))
    if "rejectedDatapoints" in metadata:
        out.append(
            Metric("datapoints.rejected", "datapoints refused", int(metadata["rejectedDatapoints"]), "", "lower")
        )
    if "lostPeers" in metadata:
        out.append(Metric("peers.lost", "peers lost when their host failed", len(lost), "", "lower"))
    return {m.name: m for m in out}


def describe_layers(frame: pd.DataFrame) -> str:
    """'1 layer of 8', '20 layers of 50', '3 layers of 50 (the last 20)': peers reporting in each layer.

    A run fills its layers in turn, so sizes are told largest first, and anything else in full."""
    sizes = sorted(frame.groupby("layer", observed=True)["peerId"].nunique(), reverse=True)
    if not sizes:
        return "none"
    text = f"{len(sizes)} layer{'s' if len(sizes) > 1 else ''} of {sizes[0]}"
    if all(size == sizes[0] for size in sizes[:-1]):
        return text + (f" (the last {sizes[-1]})" if sizes[-1] != sizes[0] else "")
    return f"{len(sizes)} layers of {', '.join(map(str, sizes))}"


def _harness_errors(frame: pd.DataFrame) -> int | None:
    """Unexpected exceptions in the harness: every peer's, plus each host's once per window."""
    total, found = 0, False
    if "harnessErrors" in frame:
        total += int(pd.to_numeric(frame["harnessErrors"], errors="coerce").fillna(0).sum())
        found = True
    if "hostHarnessErrors" in frame:
        keys = [c for c in ("hostId", "window") if c in frame]
        errors = frame["hostHarnessErrors"]
        per_host = errors[~frame.duplicated(keys).to_numpy()] if keys else errors  # never copy the other columns
        total += int(pd.to_numeric(per_host, errors="coerce").fillna(0).sum())
        found = True
    return total if found else None


def _setup(frame: pd.DataFrame) -> dict[str, Metric]:
    """Connection set-up and failures over the whole run (set-up happens mostly in the warm-up)."""
    out: dict[str, Metric] = {}
    if "connectSetupMs" in frame:
        p50, p99 = percentiles(bucket_counts(frame["connectSetupMs"]), [50, 99])
        if not math.isnan(p50):
            out["setup.p50"] = Metric("setup.p50", "connection set-up p50", p50, "ms", "lower")
            out["setup.p99"] = Metric("setup.p99", "connection set-up p99", p99, "ms", "lower")
    if "joinMs" in frame:  # staged peers join during the test: every join counts, warm-up or not
        p50, p99 = percentiles(bucket_counts(frame["joinMs"]), [50, 99])
        if not math.isnan(p50):
            out["join.p50"] = Metric("join.p50", "lighthouse join (connect, layer, room) p50", p50, "ms", "lower")
            out["join.p99"] = Metric("join.p99", "lighthouse join (connect, layer, room) p99", p99, "ms", "lower")
    for column, name, label in (
        ("connectionFailures", "connections.failed", "connections that never opened"),
        ("reconnections", "reconnections", "lighthouse reconnections"),
        ("routineErrors", "routine.errors", "routine errors"),
    ):
        if column in frame:
            out[name] = Metric(
                name, label, int(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum()), "", "lower"
            )
    harness = _harness_errors(frame)
    if harness is not None:
        out["harness.errors"] = Metric(
            "harness.errors", "harness errors (unexpected, see the logs)", harness, "", "lower"
        )
    if "connectionRejects" in frame:
        rejects = counts_table(frame["connectionRejects"]).sum()
        out["connections.rejected"] = Metric(
            "connections.rejected",
            "connections rejected"
            + (f" ({', '.join(f'{k}: {v}' for k, v in rejects.items())})" if len(rejects) else ""),
            int(rejects.sum()),
            "",
            "lower",
        )
    return out
