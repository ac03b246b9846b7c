"""Simulation: routines, the 60 Hz tick loop, simulated peers and the hosts that run them.

Routines see only `RoutinePeer` (defined in `sim.api`, imported from `peerperf.routines`); nothing here imports Ray.
"""
