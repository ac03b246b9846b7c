"""`python -m peerperf.run` mixing impaired and unimpaired peers: the datapoints say which is which."""

from __future__ import annotations

from pathlib import Path

from peerperf.analysis.comparison import compare_groups
from peerperf.analysis.groups import summaries_by
from peerperf.analysis.results_files import load
from tests.runcli import Run


async def test_a_bad_profile_stops_the_run_before_it_starts() -> None:
    run = await Run.start("--peers", "2", "--impair", "loss=2,delay=40")
    assert await run.finish() == 2
    assert "at most 100%" in run.output and "expected a time such as 40ms" in run.output
    assert "starting Ray" not in run.output


async def test_a_run_with_half_the_peers_delayed_shows_it_grouped_by_impairment(tmp_path: Path) -> None:
    run = await Run.start(
        "--peers", "4", "--duration", "12", "--peers-per-actor", "4", "--output", str(tmp_path), "--seed", "5",
        "--stats-interval", "1000", "--ping-interval", "1",
        "--impair", "delay=100ms,loss=1%", "--impair-peers", "50%", "--impair-seed", "9",
    )  # fmt: skip
    assert await run.finish() == 0, run.output
    assert "[impairing delay=100ms,loss=1%: 2 peers, none: 2 peers]" in run.output
    frame = load(tmp_path)  # {id}.parquet, not its siblings (topology, results)
    assert set(frame["impairment"]) == {"", "delay=100ms,loss=1%"}
    assert frame.groupby("impairment")["peerId"].nunique().to_dict() == {"": 2, "delay=100ms,loss=1%": 2}
    impaired = frame[frame["impairment"] != ""]
    assert impaired["datagramsSent"].max() > 100 and impaired["datagramsDelayed"].max() > 100
    assert frame[frame["impairment"] == ""]["datagramsSent"].isna().all(), "unimpaired peers are not wrapped"
    # Pings between two delayed peers take 200 ms, with one 100 ms, between clean ones about 0.
    latency = frame.dropna(subset=["averageLatency"]).groupby("impairment")["averageLatency"].median()
    assert latency["delay=100ms,loss=1%"] > latency[""] + 40, latency.to_dict()
    assert 60 <= latency[""] <= 140 and 110 <= latency["delay=100ms,loss=1%"] <= 230, latency.to_dict()
    # The analysis says the same, grouped by profile: summaries per group, and a significant difference.
    # Latency is counted at the receiver and the delay is on the way out: a clean peer hears two delayed
    # senders of three, a delayed peer one, so the clean group's median is the delayed one.
    groups = summaries_by(load(tmp_path), "impairment")
    assert float(groups[""]["latency.position.p50"]) > float(groups["delay=100ms,loss=1%"]["latency.position.p50"]) + 40
    by_name = {d.name: d for d in compare_groups(load(tmp_path), "impairment", resamples=500).differences}
    assert by_name["latency.position.p50"].significant == [True], by_name["latency.position.p50"]
