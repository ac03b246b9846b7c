"""Counts over the whole run: who reported (and who did not), connection set-up, and failures.

These figures sit beside the per-peer ones (`peerperf.analysis.figures`): they count peers, datapoints
and events rather than averaging over peers, so comparisons do not resample them.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from peerperf.analysis.figures import Metric
from peerperf.analysis.histograms import bucket_counts, percentiles
from peerperf.analysis.peers import counts_table
from peerperf.analysis.prepared import Prepared


def counts(prepared: Prepared, metadata: dict[str, Any]) -> dict[str, Metric]:
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


def setup_and_failures(frame: pd.DataFrame) -> dict[str, Metric]:
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
