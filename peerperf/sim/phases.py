"""The phase rule: where in its period each periodic timer of a simulated peer (and its host) first fires.

peerperf's start barrier joins every peer in the same instant, so timers started by a join would
all fire together for the whole run (every ping round of a room at once: a burst that stalls the
hosts). Every such timer gets a phase in [0, 1) of its period instead:

    phase(timer, index) = frac(base(seed, timer) + index x 0.618...)

`base` is one random number per timer and run, drawn from the run's seed; `index` is the peer's
stable index (a host's: its first peer's). Stepping by the golden ratio spreads any run of
consecutive indices (a room, a layer, a host's peers) evenly over the period (the gaps between
neighbours take at most three sizes), where independent draws clump: over 4,000 simulated 60 s
runs of ten peers pinging every 7.009 s, independent phases put more than twice the average share
of rounds into some 2 s window in one run out of four, golden-ratio phases never more than 1.4x.
"""

from __future__ import annotations

import math
import random

from peerperf.peer.timer_phases import TimerPhases

#: 1 / golden ratio: the step between consecutive peers' phases.
GOLDEN_STEP = (math.sqrt(5) - 1) / 2
#: Timer names of the peer library's loops (`TimerPhases` fields).
PEER_TIMERS = ("ping", "heartbeat", "network_update", "housekeeping", "hint_request")
#: Host timers: the tick loop's offset within its 60 Hz period, and when in the following interval a
#: closed stats window is submitted.
TICK, SUBMIT = "tick", "submit"


def phase(seed: int | None, timer: str, index: int) -> float:
    """The phase in [0, 1) of `timer` for the peer (or host) with this index, in the run seeded `seed`."""
    base = random.Random(f"{seed}:{timer}").random()
    return (base + index * GOLDEN_STEP) % 1.0


def peer_phases(seed: int | None, index: int) -> TimerPhases:
    """The peer library's timer phases of peer `index`."""
    return TimerPhases(**{timer: phase(seed, timer, index) for timer in PEER_TIMERS})


def routine_timer(key: str) -> str:
    """The timer name of a routine's `every()` timer with this key."""
    return f"routine:{key}"
