"""Churn (`--churn 10%/min`): parsing, and which instance is replaced when, exactly."""

from __future__ import annotations

import pytest

from peerperf.config import RunConfig
from peerperf.errors import ConfigError
from peerperf.sim.churn import parse_churn, steady_plan, with_churn
from peerperf.sim.stages import Session, parse_stages


def test_parses_a_share_per_minute() -> None:
    assert parse_churn("10%/min") == pytest.approx(0.1)
    assert parse_churn(" 2.5%/min") == pytest.approx(0.025)
    assert parse_churn("100%/min") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("101%/min", "above 100%/min"),
        ("10%/s", "per minute, e.g. 10%/min"),
        ("10", "per minute"),
        ("-5%/min", "per minute"),
    ],
)
def test_bad_churn_is_a_clear_error(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_churn(text)
    with pytest.raises(ConfigError):
        RunConfig(churn=text)


def test_replacements_come_at_a_steady_pace_oldest_first_as_new_instances() -> None:
    # 4 peers for 60 s at 50 %/min: 2 per minute, due at 30 s and 60 s (the end: not done).
    plan = with_churn(steady_plan(4, 60.0), 0.5)
    assert plan.sessions == (
        Session(0, 1, 0.0, 30.0),
        Session(1, 1, 0.0, None),
        Session(2, 1, 0.0, None),
        Session(3, 1, 0.0, None),
        Session(0, 2, 30.0, None),
    )
    assert not plan.explicit and all(plan.active_at(t) == 4 for t in (0, 29.9, 30, 59))
    # 10 peers at 60 %/min over 60 s: 6 replacements, one every 10 s, each of the then oldest.
    plan = with_churn(steady_plan(10, 60.0), 0.6)
    replaced = [s for s in plan.sessions if s.leave is not None]
    assert [s.leave for s in replaced] == pytest.approx([10, 20, 30, 40, 50])
    assert [s.slot for s in replaced] == [0, 1, 2, 3, 4]


def test_churn_follows_the_stages_active_count() -> None:
    plan = with_churn(parse_stages("1s:1,6s:4,12s:4,4s:2,1s:2"), 1.0)  # 4 x 12 s at 100 %/min: one, at 19 s
    assert [s for s in plan.sessions if s.number == 2] == [Session(0, 2, 19.0, None)]
    assert Session(0, 1, 1.0, 19.0) in plan.sessions
    assert [plan.active_at(t) for t in (18.9, 19.0, 21.0, 23.0)] == [4, 4, 3, 2]
    # A replacement inherits the leave its predecessor had planned.
    plan = with_churn(parse_stages("0s:2,30s:2,1s:0,1s:0"), 1.0)  # 2 x 30 s: one at 30 s, then all leave
    assert plan.sessions == (Session(0, 1, 0.0, 30.0), Session(1, 1, 0.0, 30.5), Session(0, 2, 30.0, 31.0))


def test_the_run_plans_churn_with_or_without_stages() -> None:
    config = RunConfig(peers=4, duration=60.0, churn="50%/min")
    assert config.stage_plan is not None and len(config.stage_plan.sessions) == 5
    assert RunConfig(peers=4, duration=60.0).stage_plan is None
