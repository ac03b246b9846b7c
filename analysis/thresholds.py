"""Where the harness verdict draws its lines, declared once: the analysis, the live page and the live view
read them from here (pure constants, nothing to import)."""

from __future__ import annotations

import math

#: Seconds from the start treated as warm-up (routines start at random offsets of up to 3 s, the mesh settles).
WARMUP_SECONDS = 4.0

#: Host-wide tick-lag p99 above two 60 Hz periods means routines ran visibly late.
LATE_TICK_MS = 2 * 1000 / 60
#: Share of due ticks skipped (each more than a whole period late) that counts as falling behind.
MISSED_SHARE = 0.02
#: A host process at or above this share of one core is CPU-bound (one event loop, one core).
CPU_BOUND_PERCENT = 90.0
#: Share of host windows that may be CPU-bound before the run counts as saturated.
CPU_BOUND_SHARE = 0.10
#: Machine busy share (all cores) above which the machine counts as busy.
MACHINE_BUSY_PERCENT = 90.0
#: A busy machine whose other work (beyond our hosts) takes more than this share of all cores was loaded by
#: someone else.
OTHER_WORK_PERCENT = 25.0

#: An overloaded run is *bursts*, not sustained saturation, when no host was late in more than this share of
#: its windows ...
SUSTAINED_LATE_SHARE = 0.5
#: ... its hosts' CPU p90 stayed below this (well below `CPU_BOUND_PERCENT`) ...
BURST_CPU_PERCENT = 70.0
#: ... and the windows between the bursts were within the limits above. Activity (packets by subtype) whose
#: mean in the late windows is at least this many times its mean in the others coincided with the bursts.
COINCIDENCE_RATIO = 2.0

#: The harness's own failures a healthy run may have: unexpected exceptions in its loops, peers lost when a
#: host failed or that stopped reporting, datapoints the results service refused. Anything more: `faulty`.
TOLERATED_HARNESS_ERRORS = 0
TOLERATED_LOST_PEERS = 0
TOLERATED_REFUSED_DATAPOINTS = 0


def warmup_windows(interval_s: float) -> int:
    """Windows covering the first `WARMUP_SECONDS` (a hair under a whole number of windows still rounds down)."""
    return max(0, math.ceil(WARMUP_SECONDS / interval_s - 0.05))
