"""Session lengths (`--session-length exp:5m`): parsing, and the plan transform, exactly and reproducibly."""

from __future__ import annotations

import itertools
import statistics

import pytest

from peerperf.config import RunConfig
from peerperf.errors import ConfigError
from peerperf.sim.churn import steady_plan, with_churn
from peerperf.sim.sessions import MIN_SECONDS, SessionLength, parse_session_length, with_session_lengths
from peerperf.sim.stages import Session, StagePlan, parse_stages


def test_parses_the_three_distributions() -> None:
    assert parse_session_length("exp:5m") == SessionLength("exp", 300.0, 300.0)
    assert parse_session_length("fixed:90s") == SessionLength("fixed", 90.0, 90.0)
    assert parse_session_length(" uniform:1m-3m") == SessionLength("uniform", 60.0, 180.0)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("5m", "expected exp:MEAN, fixed:LENGTH or uniform:LOW-HIGH"),
        ("normal:5m", "expected exp:MEAN"),
        ("exp:0s", "'0s' is not a positive duration"),
        ("exp:soon", "'soon' is not a positive duration"),
        ("uniform:3m", "uniform takes LOW-HIGH"),
        ("uniform:3m-1m", "LOW is above HIGH"),
    ],
)
def test_bad_session_lengths_are_clear_errors(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_session_length(text)
    with pytest.raises(ConfigError, match=named):
        RunConfig(session_length=text)


def test_fixed_lengths_end_each_instance_and_start_the_next_in_its_slot() -> None:
    plan = with_session_lengths(steady_plan(2, 60.0), SessionLength("fixed", 25.0, 25.0), seed=1)
    assert plan.sessions == (
        Session(0, 1, 0.0, 25.0),
        Session(1, 1, 0.0, 25.0),
        Session(0, 2, 25.0, 50.0),
        Session(1, 2, 25.0, 50.0),
        Session(0, 3, 50.0, None),
        Session(1, 3, 50.0, None),
    )
    assert [s.instance_id("id") for s in plan.sessions[-2:]] == ["id-s3", "id-s3"]


def _active_counts(plan: StagePlan, step: float = 0.25) -> list[int]:
    return [sum(s.active_at(t * step) for s in plan.sessions) for t in range(int(plan.duration / step))]


def _chains(plan: StagePlan) -> list[list[Session]]:
    """Each slot's instances in time."""
    ordered = sorted(plan.sessions, key=lambda s: (s.slot, s.join))
    return [list(group) for _, group in itertools.groupby(ordered, lambda s: s.slot)]


def test_exponential_lengths_are_seeded_keep_the_active_count_and_have_their_mean() -> None:
    base = steady_plan(200, 3600.0)
    plan = with_session_lengths(base, parse_session_length("exp:5m"), seed=7)
    assert plan == with_session_lengths(base, parse_session_length("exp:5m"), seed=7), "reproducible"
    assert plan != with_session_lengths(base, parse_session_length("exp:5m"), seed=8)
    assert _active_counts(plan, 7.0) == _active_counts(base, 7.0), "a replacement joins as its predecessor leaves"
    for chain in _chains(plan):
        assert [s.number for s in chain] == list(range(1, len(chain) + 1))
        assert all(a.leave == b.join for a, b in itertools.pairwise(chain)) and chain[-1].leave is None
    ended = [s.leave - s.join for s in plan.sessions if s.leave is not None]
    assert statistics.mean(ended) == pytest.approx(300.0, rel=0.1) and min(ended) >= MIN_SECONDS


def test_with_stages_and_churn_instances_still_leave_when_the_stages_say() -> None:
    staged = parse_stages("10s:4,60s:4,10s:0")
    plan = with_churn(with_session_lengths(staged, parse_session_length("uniform:10s-20s"), seed=3), 0.5)
    assert _active_counts(plan) == _active_counts(staged)
    assert max(s.leave or 0.0 for s in plan.sessions) == max(s.leave or 0.0 for s in staged.sessions)
    config = RunConfig(stages="10s:4,60s:4,10s:0", duration=80, peers=4, session_length="uniform:10s-20s")
    assert config.stage_plan is config.stage_plan, "drawn once per run, even without --seed"
