"""The stage plan (`--stages`): parsing, and who is active when, exactly."""

from __future__ import annotations

import pytest

from peerperf.config import RunConfig, with_stages
from peerperf.errors import ConfigError
from peerperf.sim.host_config import PeerSpec
from peerperf.sim.stages import Session, Stage, departed_ids, instance_ids, parse_stages, seconds_text


def test_parses_k6_form_with_units() -> None:
    plan = parse_stages("30s:100, 2m:100,500ms:0,1h:1,45:2")
    assert plan.stages == (Stage(30, 100), Stage(120, 100), Stage(0.5, 0), Stage(3600, 1), Stage(45, 2))
    assert plan.duration == pytest.approx(30 + 120 + 0.5 + 3600 + 45)
    assert plan.peak == 100


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "duration:target pairs"),
        ("30s:10,,1m:0", "duration:target pairs"),
        ("30s", "'30s' is not duration:target"),
        ("30x:10", "duration '30x'"),
        ("-5s:10", "duration '-5s'"),
        ("30s:ten", "target 'ten'"),
        ("30s:-1", "target -1"),
        ("10s:0,5s:0", "every target is 0"),
        ("0s:4", "last 0 s"),
    ],
)
def test_a_stage_list_that_does_not_parse_names_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("(", r"\(")):
        parse_stages(text)


def test_ramp_up_hold_ramp_down_joins_and_leaves_on_whole_numbers() -> None:
    plan = parse_stages("8s:4,10s:4,6s:2")
    # Up: peer k joins when the line 0 -> 4 over 8 s reaches k; down: the last in leaves first.
    assert plan.sessions == (
        Session(0, 1, 2.0, None),
        Session(1, 1, 4.0, None),
        Session(2, 1, 6.0, None),  # due to leave at 24 s, the end: the end stops it
        Session(3, 1, 8.0, 21.0),
    )
    assert [plan.active_at(t) for t in (0, 1.9, 2, 5, 8, 20.9, 21, 23.9)] == [0, 0, 1, 2, 4, 4, 3, 3]
    assert plan.target_at(4) == pytest.approx(2) and plan.target_at(21) == pytest.approx(3)
    assert [plan.stage_at(t) for t in (0, 8, 8.01, 18, 18.5, 24, 30)] == [1, 1, 2, 2, 3, 3, 3]


def test_a_slot_that_joins_again_is_a_new_instance() -> None:
    plan = parse_stages("2s:2,2s:0,2s:2,1s:2")
    assert plan.sessions == (
        Session(0, 1, 1.0, 4.0),
        Session(1, 1, 2.0, 3.0),
        Session(0, 2, 5.0, None),
        Session(1, 2, 6.0, None),
    )
    specs = [PeerSpec(i, f"p{i}", "default", "blue", "room", (0.0, 0.0, 0.0)) for i in range(2)]
    assert instance_ids(plan, specs) == ["p0", "p1", "p0-s2", "p1-s2"]
    assert departed_ids(plan, specs) == ["p0", "p1"]


def test_a_peer_due_at_the_very_end_never_joins_and_one_due_to_leave_then_stays() -> None:
    plan = parse_stages("4s:2,2s:0")  # the second joins at 4, both would leave: at 5 and at 6, the end
    assert plan.sessions == (Session(0, 1, 2.0, None), Session(1, 1, 4.0, 5.0))
    assert parse_stages("4s:2").sessions == (Session(0, 1, 2.0, None),)


def test_a_zero_length_stage_is_a_step_and_its_peers_join_before_the_start() -> None:
    plan = parse_stages("0s:3,4s:3,0s:1,2s:1")
    assert [s.join for s in plan.initial()] == [0.0, 0.0, 0.0]
    assert plan.active_at(3.9) == 3 and plan.active_at(4.0) == 1
    assert plan.peak == 3 and plan.duration == 6


def test_peers_that_report_each_window() -> None:
    plan = parse_stages("3s:1,6s:4,4s:4,4s:2,3s:2")  # joins at 3, 5, 7, 9; leaves at 15, 17
    interval = 2.0
    counts = [len(plan.active_in((n - 1) * interval, n * interval)) for n in range(1, 11)]
    assert counts == [0, 1, 2, 3, 4, 4, 4, 4, 3, 2]


def test_peers_and_duration_follow_the_stages() -> None:
    config = with_stages(RunConfig(stages="10s:3,20s:5"), peers_given=False, duration_given=False)
    assert (config.peers, config.duration) == (5, 30.0)
    assert with_stages(RunConfig(peers=9, stages="10s:3"), True, False).peers == 9
    with pytest.raises(ConfigError, match="reaches 5 active peers, above --peers 4"):
        with_stages(RunConfig(peers=4, stages="10s:3,20s:5"), peers_given=True, duration_given=False)
    with pytest.raises(ConfigError, match="differs from the stages' sum 30 s"):
        with_stages(RunConfig(duration=60, stages="10s:3,20s:5"), peers_given=False, duration_given=True)
    with pytest.raises(ConfigError, match="duration 'x'"):
        RunConfig(stages="x:1")


def test_plan_as_metadata() -> None:
    plan = parse_stages("1m:10,30s:0")
    assert plan.to_json() == {
        "stages": [{"duration": 60.0, "target": 10}, {"duration": 30.0, "target": 0}],
        "bounds": [[0.0, 60.0], [60.0, 90.0]],
        "peak": 10,
        "duration": 90.0,
    }
    assert [seconds_text(s.duration) for s in plan.stages] == ["1m", "30s"]
