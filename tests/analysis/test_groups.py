"""Summaries by a datapoint column (`summary --by stage`) and assertions scoped to one group
(`stage:2.delivery>=0.99`), on hand-built datapoints whose right answers are known."""

from __future__ import annotations

import pandas as pd
import pytest

from peerperf.analysis.assertions import check, parse
from peerperf.analysis.groups import summaries_by
from peerperf.analysis.summarise import Summary, summary
from peerperf.errors import ConfigError
from peerperf.protocol.histogram import Histogram
from tests.analysis.fixtures import Scenario

#: 4 peers, 12 windows of 20 positions each; stage 1 is windows 1-6, stage 2 windows 7-12.
PEERS, WINDOWS, POSITIONS = 4, 12, 20


def staged_frame() -> pd.DataFrame:
    """Everything arrives, but in stage 2 peer 0 gets only half of the others' packets."""
    frame = Scenario(peers=PEERS, windows=WINDOWS, positions=POSITIONS, by_window=True).frame()
    frame["stage"] = (frame["window"] > WINDOWS // 2).astype(int) + 1
    halved = (frame["peerId"] == Scenario().peer_id(0)) & (frame["stage"] == 2)
    frame.loc[halved, "arrivedByWindow"] = frame.loc[halved, "arrivedByWindow"].map(
        lambda counts: {key: value // 2 for key, value in counts.items()}
    )
    return frame


def test_summary_by_stage_counts_delivery_to_each_stages_windows_exactly() -> None:
    groups = summaries_by(staged_frame(), "stage", warmup_windows=0, keep_last=True)
    assert list(groups) == ["1", "2"]
    # Stage 1: windows 2-6 count (a peer's first window never does): all delivered.
    assert groups["1"]["delivery"] == 1.0 and groups["1"]["delivery.windows"] == 5
    # Stage 2: windows 7-10 count (11 and 12 are within the grace of the peers' last window);
    # each expects 3 x 20 per window, peer 0 got 30: (3 x 60 + 30) / (4 x 60).
    assert groups["2"]["delivery.windows"] == 4
    assert groups["2"]["delivery"] == pytest.approx((3 * 60 + 30) / 240)
    assert groups["1"]["peers"] == PEERS and groups["2"]["datapoints"] == PEERS * WINDOWS // 2
    whole = summary(staged_frame(), warmup_windows=0, keep_last=True)
    assert groups["2"]["harness"] == whole["harness"], "the harness verdict is the whole run's"


def test_a_column_that_does_not_change_within_a_peer_still_groups_peers() -> None:
    frame = staged_frame().assign(room=lambda f: f["peerId"].map(lambda p: "north" if p.endswith("0") else "south"))
    groups = summaries_by(frame, "room", warmup_windows=0, keep_last=True)
    assert {name: group["peers"] for name, group in groups.items()} == {"north": 1, "south": 3}
    with pytest.raises(KeyError, match="no column 'kind2'"):
        summaries_by(frame, "kind2")


def test_scoped_assertions_check_their_groups_figure() -> None:
    frame = staged_frame()
    whole = summary(frame, warmup_windows=0, keep_last=True)

    def by(column: str) -> dict[str, Summary]:
        return summaries_by(frame, column, warmup_windows=0, keep_last=True)

    texts = ["stage:1.delivery>=0.99", "stage:2.delivery>=0.99", "stage:3.delivery>=0.5", "nope:1.delivery>0"]
    outcomes = check(whole, [parse(text) for text in texts], by)
    assert [o.passed for o in outcomes] == [True, False, False, False]
    assert outcomes[1].actual == pytest.approx(0.875)
    assert "no stage 3 in this run (stage values: 1, 2)" in outcomes[2].message
    assert "no column 'nope'" in outcomes[3].message
    unscoped = check(whole, [parse("delivery>=0.99")], by)
    assert not unscoped[0].passed, "the whole run's figure counts stage 2 too"


def test_a_scope_is_parsed_or_refused_with_the_form() -> None:
    threshold = parse("stage:2.latency.position.p99<250ms")
    assert threshold.scope == ("stage", "2") and threshold.metric == "latency.position.p99" and threshold.value == 250
    assert parse("delivery>=0.9").scope is None
    with pytest.raises(ConfigError, match=r"\[COLUMN:VALUE.\]NAME OP VALUE"):
        parse("stage:.delivery>=0.9")
    outcome = check(summary(staged_frame()), [threshold])[0]
    assert not outcome.passed and "need the datapoints" in outcome.message


def test_lighthouse_joins_are_figures_of_the_stage_they_were_reported_in() -> None:
    frame = staged_frame()
    frame["joinMs"] = None
    for window, ms in ((1, 20.0), (7, 300.0)):  # a join in each stage
        one = Histogram()
        one.record(ms)
        row = frame.index[(frame["window"] == window) & (frame["peerId"] == Scenario().peer_id(1))][0]
        frame.at[row, "joinMs"] = one.encode()
    groups = summaries_by(frame, "stage", warmup_windows=0, keep_last=True)
    assert groups["1"]["join.p50"] == pytest.approx(20.0, rel=0.05)
    assert groups["2"]["join.p99"] == pytest.approx(300.0, rel=0.05)
