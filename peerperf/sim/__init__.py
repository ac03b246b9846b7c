"""Simulation: routines, the 60 Hz tick loop, simulated peers and the hosts that run them.

Routines see only `peerperf.sim.api.RoutinePeer`; nothing here imports Ray.
"""
