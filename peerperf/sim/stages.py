"""Load over time (`--stages 30s:100,2m:100,30s:0`, k6's form): which peer is active when.

Each stage `duration:target` moves the number of active peers linearly from the previous stage's
target (0 before the first) to `target` over `duration`; the test lasts their sum. The count changes
by one each time the line crosses a whole number: on the way up peer k (1-based slot) joins when the
line reaches k, on the way down it leaves when the line reaches k - 1, the last to join first. A slot
that joins again after leaving is a new instance (`<id>-s2`, ...): new id, own sequence numbers, so
delivery stays exact across instances. A zero-length stage is a step; peers it brings at time 0 join
before the start, through the start barrier, as every peer of a run without stages does.

Pure and small on purpose: the orchestrator records the plan, every host follows it, and the
analysis and tests compute from it the exact number of active peers per stage and per window.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peerperf.errors import ConfigError

if TYPE_CHECKING:
    from peerperf.sim.host_config import PeerSpec

#: `30s`, `2m`, `1.5m`, `500ms`, `1h`, or plain seconds (`45`).
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class Stage:
    """One `duration:target` of the stage list."""

    #: Seconds over which the active count moves to `target`.
    duration: float
    #: Active peers at the stage's end.
    target: int


@dataclass(frozen=True)
class Session:
    """One instance of a slot: the peer of slot `slot` active from `join` to `leave` (s from the start)."""

    slot: int
    #: 1 for the slot's first instance, 2 for the one that joins after it left, ...
    number: int
    join: float
    #: None: active until the test ends.
    leave: float | None

    def instance_id(self, peer_id: str) -> str:
        """The id this instance joins with: the slot's id, then `<id>-s2`, `<id>-s3`, ..."""
        return peer_id if self.number == 1 else f"{peer_id}-s{self.number}"

    def active_at(self, t: float) -> bool:
        return self.join <= t and (self.leave is None or t < self.leave)


@dataclass(frozen=True)
class StagePlan:
    """The stages and every slot's sessions, computed once from them."""

    stages: tuple[Stage, ...]
    sessions: tuple[Session, ...]
    #: Whether the user gave the stages (`--stages`); False: one stage of every peer, for `--churn` alone
    #: (datapoints then carry no stage).
    explicit: bool = True
    #: Peers active from the start, before the first stage moves the line.
    start_level: int = 0

    @property
    def duration(self) -> float:
        return sum(stage.duration for stage in self.stages)

    @property
    def peak(self) -> int:
        """The largest target: how many slots (peers placed on hosts) the run needs."""
        return max(self.start_level, *(stage.target for stage in self.stages))

    def bounds(self) -> list[tuple[float, float]]:
        """Each stage's (start, end) in seconds from the test's start."""
        out, start = [], 0.0
        for stage in self.stages:
            out.append((start, start + stage.duration))
            start += stage.duration
        return out

    def target_at(self, t: float) -> float:
        """The line the stages draw: the target number of active peers `t` s into the test."""
        level = float(self.start_level)
        for (start, end), stage in zip(self.bounds(), self.stages, strict=True):
            if t < end:
                share = (t - start) / stage.duration if stage.duration > 0 else 1.0
                return level + (stage.target - level) * max(0.0, share)
            level = float(stage.target)
        return level

    def active_at(self, t: float) -> int:
        """Peers active `t` s into the test, by the plan."""
        return sum(1 for s in self.sessions if s.active_at(t))

    def stage_at(self, t: float) -> int:
        """The 1-based stage `t` s into the test falls in: start < t <= end (time 0 is stage 1; after the
        end, the last). What a datapoint's `stage` is, for the moment its window closed."""
        for index, (start, end) in enumerate(self.bounds(), start=1):
            if start < t <= end:
                return index
        return 1 if t <= 0 else len(self.stages)

    def initial(self) -> list[Session]:
        """Sessions active at the start (a zero-length first stage): they join before it, at the barrier."""
        return [s for s in self.sessions if s.join <= 0]

    def active_in(self, start: float, end: float) -> list[Session]:
        """Sessions active at some moment of (start, end]: the instances that report the window so spanned."""
        return [s for s in self.sessions if s.join < end and (s.leave is None or s.leave > start)]

    def to_json(self) -> dict[str, object]:
        """The plan as the test's metadata records it (`stagePlan`)."""
        return {
            "stages": [{"duration": s.duration, "target": s.target} for s in self.stages],
            "bounds": [list(b) for b in self.bounds()],
            "peak": self.peak,
            "duration": self.duration,
        }


def parse_stages(text: str) -> StagePlan:
    """`30s:100,2m:100,30s:0` -> the plan; ConfigError naming the part that does not parse."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or not all(parts):
        raise ConfigError(f"--stages {text!r}: expected duration:target pairs separated by commas, e.g. 30s:10,1m:10")
    return plan_stages([_stage(part) for part in parts])


def _stage(part: str) -> Stage:
    duration, sep, target = part.partition(":")
    if not sep:
        raise ConfigError(f"--stages: {part!r} is not duration:target (e.g. 30s:10)")
    seconds = parse_seconds(duration.strip())
    if seconds is None:
        raise ConfigError(f"--stages: duration {duration!r} in {part!r} is not a duration such as 30s, 2m or 500ms")
    try:
        count = int(target.strip())
    except ValueError:
        raise ConfigError(f"--stages: target {target!r} in {part!r} is not a whole number of peers") from None
    if count < 0:
        raise ConfigError(f"--stages: target {count} in {part!r} is negative")
    return Stage(seconds, count)


def parse_seconds(text: str) -> float | None:
    """`500ms`, `30s`, `2m`, `1h` or a bare number of seconds -> seconds; None when it is none of these."""
    match = _DURATION.match(text)
    return None if match is None else float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def plan_stages(stages: list[Stage], start_level: int = 0) -> StagePlan:
    """Every slot's sessions: joins as the line rises through whole numbers, leaves (last in, first out)
    as it falls through them; `start_level` peers are active from the start."""
    if not stages:
        raise ConfigError("--stages: no stage given")
    if max(start_level, *(s.target for s in stages)) < 1:
        raise ConfigError("--stages: every target is 0: no peer would ever be active")
    total = sum(s.duration for s in stages)
    if total <= 0:
        raise ConfigError("--stages: the stages last 0 s in all")
    open_at: dict[int, float] = {}  # slot -> join time of its open session
    numbers: dict[int, int] = {}
    sessions: list[Session] = []
    level, start = start_level, 0.0
    open_at.update({slot: 0.0 for slot in range(start_level)})
    for stage in stages:
        step = stage.duration / abs(stage.target - level) if stage.target != level else 0.0
        for k in range(level + 1, stage.target + 1):  # rising: slot k - 1 joins when the line reaches k
            open_at[k - 1] = start + step * (k - level)
        for k in range(level, stage.target, -1):  # falling: slot k - 1 leaves when the line reaches k - 1
            slot, leave = k - 1, start + step * (level - (k - 1))
            numbers[slot] = numbers.get(slot, 0) + 1
            sessions.append(Session(slot, numbers[slot], open_at.pop(slot), leave))
        level, start = stage.target, start + stage.duration
    for slot, join in open_at.items():
        numbers[slot] = numbers.get(slot, 0) + 1
        sessions.append(Session(slot, numbers[slot], join, None))
    sessions = [s for s in sessions if s.join < total and (s.leave is None or s.leave > s.join)]
    ordered = sorted(sessions, key=lambda s: (s.join, s.slot))
    return StagePlan(tuple(stages), tuple(_until_end(s, total) for s in ordered), start_level=start_level)


def _until_end(session: Session, total: float) -> Session:
    """A leave at (or after) the test's end is no leave: the run's end stops every peer."""
    if session.leave is not None and session.leave >= total - 1e-9:
        return Session(session.slot, session.number, session.join, None)
    return session


def instance_ids(plan: StagePlan, specs: Sequence[PeerSpec]) -> list[str]:
    """Every instance's id, in the order they join: the peers the run expects to report."""
    ids = {spec.index: spec.peer_id for spec in specs}
    return [session.instance_id(ids[session.slot]) for session in plan.sessions]


def departed_ids(plan: StagePlan, specs: Sequence[PeerSpec]) -> list[str]:
    """The instances that leave before the end, by plan: their reports end early on purpose."""
    ids = {spec.index: spec.peer_id for spec in specs}
    return [session.instance_id(ids[session.slot]) for session in plan.sessions if session.leave is not None]


def check_peers(plan: StagePlan, peers: int | None) -> int:
    """The run's `--peers`: the plan's peak by default; an explicit one below the peak is an error."""
    if peers is None:
        return plan.peak
    if plan.peak > peers:
        raise ConfigError(
            f"--stages reaches {plan.peak} active peers, above --peers {peers}: raise --peers or lower the targets"
        )
    return peers


def seconds_text(seconds: float) -> str:
    """30 -> '30s', 120 -> '2m', 90 -> '90s', 0.5 -> '500ms': how a stage is shown."""
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 60 and math.isclose(seconds % 60, 0):
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
