"""Where the harness verdict draws its lines; pure constants, shared by the analysis and the live page."""

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
