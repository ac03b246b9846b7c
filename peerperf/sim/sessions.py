"""Session lengths (`--session-length exp:5m`): each instance stays a drawn time, then a new one takes its slot.

An instance whose drawn length ends before its planned leave leaves then (the original's leave) and a
new instance with a new id (`<id>-s2`, ...) joins its slot at that moment, with a length of its own, as
churn replaces peers; so every instance keeps its own sequence numbers and loss stays exact. Lengths
are drawn in slot order from one generator seeded by the run's seed, so a run is reproducible. Pure:
a transform of the plan, like churn's (`peerperf.sim.churn`), applied before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from peerperf.errors import ConfigError
from peerperf.sim.churn import numbered
from peerperf.sim.stages import Session, StagePlan, parse_seconds

#: Shorter draws count as this long: an instance must be able to join before it leaves.
MIN_SECONDS = 1.0
_FORMS = "exp:MEAN, fixed:LENGTH or uniform:LOW-HIGH (e.g. exp:5m, fixed:2m, uniform:1m-3m)"


@dataclass(frozen=True)
class SessionLength:
    """How long an instance stays: `exp` (mean `low`), `fixed` (`low`) or `uniform` (`low` to `high`), in s."""

    kind: str
    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        if self.kind == "exp":
            drawn = rng.expovariate(1 / self.low)
        elif self.kind == "uniform":
            drawn = rng.uniform(self.low, self.high)
        else:
            drawn = self.low
        return max(MIN_SECONDS, drawn)


def parse_session_length(text: str) -> SessionLength:
    """`exp:5m`, `fixed:2m`, `uniform:1m-3m`; ConfigError naming what is wrong."""
    kind, sep, value = text.strip().partition(":")
    if not sep or kind not in ("exp", "fixed", "uniform"):
        raise ConfigError(f"--session-length {text!r}: expected {_FORMS}")
    low_text, dash, high_text = value.partition("-") if kind == "uniform" else (value, "", value)
    if kind == "uniform" and not dash:
        raise ConfigError(f"--session-length {text!r}: uniform takes LOW-HIGH, e.g. uniform:1m-3m")
    low, high = (_seconds(text, part) for part in (low_text, high_text))
    if low > high:
        raise ConfigError(f"--session-length {text!r}: LOW is above HIGH")
    return SessionLength(kind, low, high)


def _seconds(text: str, part: str) -> float:
    seconds = parse_seconds(part.strip())
    if seconds is None or seconds <= 0:
        raise ConfigError(f"--session-length {text!r}: {part!r} is not a positive duration such as 30s, 5m or 1h")
    return seconds


def with_session_lengths(plan: StagePlan, length: SessionLength, seed: int) -> StagePlan:
    """`plan` with every instance cut at its drawn length and followed in its slot by a new one."""
    rng = random.Random(f"session-length:{seed}")
    out: list[Session] = []
    for session in sorted(plan.sessions, key=lambda s: (s.slot, s.join)):
        end = plan.duration if session.leave is None else session.leave
        start = session.join
        while (cut := start + length.draw(rng)) < end:
            out.append(Session(session.slot, 0, start, cut))
            start = cut
        out.append(Session(session.slot, 0, start, session.leave))
    return replace(plan, sessions=numbered(out))
