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


#: Delay only: with loss, a lost ping or pong stalls its ordered channel until SCTP retransmits (aiortc's RTO is
#: at least 1 s), and with two peers a group a few such stalls decide which group's median is higher (CI15 read
#: the clean group above the delayed one). Loss in runs is tested elsewhere (tests/peer/test_impairment*.py).
DELAYED = "delay=100ms"


async def test_a_run_with_half_the_peers_delayed_shows_it_grouped_by_impairment(tmp_path: Path) -> None:
    run = await Run.start(
        "--peers", "4", "--duration", "12", "--peers-per-actor", "4", "--output", str(tmp_path), "--seed", "5",
        "--stats-interval", "1000", "--ping-interval", "0.5", "--ping-timeout", "1.5",
        "--impair", DELAYED, "--impair-peers", "50%", "--impair-seed", "9",
    )  # fmt: skip
    assert await run.finish() == 0, run.output
    assert "[impairing delay=100ms: 2 peers, none: 2 peers]" in run.output
    frame = load(tmp_path)  # {id}.parquet, not its siblings (topology, results)
    assert set(frame["impairment"]) == {"", DELAYED}
    assert frame.groupby("impairment")["peerId"].nunique().to_dict() == {"": 2, DELAYED: 2}
    impaired = frame[frame["impairment"] != ""]
    assert impaired["datagramsSent"].max() > 100 and impaired["datagramsDelayed"].max() > 100
    assert frame[frame["impairment"] == ""]["datagramsSent"].isna().all(), "unimpaired peers are not wrapped"
    # A window's averageLatency is the mean of the last round trip to each known peer (a round every 2 s).
    # Every round trip a delayed peer times crosses its own 100 ms delay at least once, whatever the load;
    # a clean peer's is about 0 to the clean peer and at least 100 ms to each delayed one, so once a delayed
    # peer has answered it its mean is at least a third of that. Load only adds to both: bounds from below.
    pinged = frame.dropna(subset=["averageLatency"])
    delayed = pinged[pinged["impairment"] != ""]["averageLatency"]
    assert delayed.min() >= 99, delayed.to_list()
    last = pinged.sort_values("timestamp").groupby("peerId").last()
    assert (last[last["impairment"] == ""]["averageLatency"] >= 100 / 3).all(), last["averageLatency"].to_dict()
    latency = pinged.groupby("impairment")["averageLatency"].median()  # about 133 ms vs 67 ms when quiet
    assert latency[DELAYED] > latency[""], latency.to_dict()
    # The analysis says the same, grouped by profile: summaries per group, and the difference.
    # Latency is counted at the receiver and the delay is on the way out: a clean peer hears two delayed
    # senders of three, a delayed peer one, so the clean group's median is the delayed one.
    groups = summaries_by(load(tmp_path), "impairment")
    assert float(groups[""]["latency.position.p50"]) > float(groups[DELAYED]["latency.position.p50"]) + 40
    by_name = {d.name: d for d in compare_groups(load(tmp_path), "impairment", resamples=500).differences}
    # With two peers a group, whether the interval clears 0 depends on the mesh: under load a delayed peer's
    # links drop and it hears through the other delayed peer (significance is tested on fixed data in
    # tests/analysis/test_compare.py). What the injected delay guarantees: the difference, and its interval.
    difference = by_name["latency.position.p50"]
    (delta,), ((low, _),) = difference.deltas, difference.intervals
    assert delta < -40 and low < -40, difference
