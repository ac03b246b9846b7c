"""Summaries by group: one per value of a datapoint column (`stage`, `impairment`, `room`, `kind`...).

`summary --by COLUMN` and the scoped assertions (`stage:2.delivery>=0.99`) read these.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from peerperf.analysis.figures import Metric, figures
from peerperf.analysis.peers import PeerSamples, peer_samples, subset
from peerperf.analysis.prepared import Prepared, prepare
from peerperf.analysis.run_counts import setup_and_failures
from peerperf.analysis.summarise import Summary, summarise
from peerperf.analysis.windows import kinds, steady


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
        metrics.update(setup_and_failures(prepared.ours[(prepared.ours[column] == value).to_numpy()]))
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
