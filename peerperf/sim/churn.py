"""Churn (`--churn 10%/min`): a share of the active peers replaced every minute, on top of the stages.

A replacement is the original's leave of one peer and, at the same moment, the join of a new instance
in its slot (`<id>-s2`, ...): a new id, so its own sequence numbers, and loss stays exact across
instances. Replacements come at a steady pace: the n-th is due when the integral of
rate x active peers over time reaches n, and replaces the active instance that joined first (the
oldest session: every peer lives about as long). Pure: the plan is computed once, like the stages'.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace

from peerperf.errors import ConfigError
from peerperf.sim.stages import Session, Stage, StagePlan, plan_stages

#: `10%/min`, `2.5%/min`.
_CHURN = re.compile(r"^(\d+(?:\.\d+)?)%/min$")
#: Above this a peer would be replaced more than once a minute on average.
MAX_PER_MINUTE = 100.0


def parse_churn(text: str) -> float:
    """`10%/min` -> 0.1 (the share of the active peers replaced per minute); ConfigError when it is not."""
    match = _CHURN.match(text.strip())
    if match is None:
        raise ConfigError(f"--churn {text!r}: expected a share of the active peers per minute, e.g. 10%/min")
    percent = float(match.group(1))
    if percent > MAX_PER_MINUTE:
        raise ConfigError(
            f"--churn {text!r}: above {MAX_PER_MINUTE:g}%/min every peer would be replaced more than once a minute"
        )
    return percent / 100


def steady_plan(peers: int, duration: float) -> StagePlan:
    """Every peer active for the whole test: the plan churn works on when there are no stages."""
    return replace(plan_stages([Stage(duration, peers)], start_level=peers), explicit=False)


def with_churn(plan: StagePlan, per_minute: float) -> StagePlan:
    """`plan` with `per_minute` of its active peers replaced every minute (see the module's docstring)."""
    if per_minute <= 0:
        return plan
    rate = per_minute / 60
    sessions = list(plan.sessions)
    end = plan.duration
    edges = sorted({0.0, end, *(s.join for s in sessions), *(s.leave for s in sessions if s.leave is not None)})
    done = 0.0  # replacements due so far (the integral of rate x active)
    for start, stop in itertools.pairwise(edges):
        active = sum(1 for s in sessions if s.active_at(start))
        if active == 0:
            continue
        at = start
        while True:
            due = at + (math.floor(done) + 1 - done) / (rate * active)
            if due >= stop:
                done += rate * active * (stop - at)
                break
            done, at = math.floor(done) + 1, due
            sessions = _replace_oldest(sessions, at)
    return replace(plan, sessions=numbered(sessions))


def _replace_oldest(sessions: list[Session], at: float) -> list[Session]:
    """The instance active at `at` that joined first leaves then; a new one joins its slot then."""
    oldest = min((s for s in sessions if s.active_at(at) and s.join < at), key=lambda s: (s.join, s.slot))
    rest = [s for s in sessions if s is not oldest]
    return [*rest, replace(oldest, leave=at), Session(oldest.slot, 0, at, oldest.leave)]


def numbered(sessions: list[Session]) -> tuple[Session, ...]:
    """Sessions in join order, each slot's numbered 1, 2, ... in time."""
    ordered = sorted(sessions, key=lambda s: (s.join, s.slot, s.leave is None, s.leave or 0.0))
    counts: dict[int, int] = {}
    out = []
    for session in sorted(ordered, key=lambda s: (s.slot, s.join)):
        counts[session.slot] = counts.get(session.slot, 0) + 1
        out.append(replace(session, number=counts[session.slot]))
    return tuple(sorted(out, key=lambda s: (s.join, s.slot)))
