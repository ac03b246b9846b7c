"""Routine plug-ins: `routine(elapsed, delta, peer)` functions selected with `--routine`.

A routine author needs one name from here, the peer it drives::

    from peerperf.routines import RoutinePeer

Add your own module here (or anywhere importable) and select it with `--routine module:function`.
"""

from peerperf.sim.api import Routine, RoutinePeer

__all__ = ["Routine", "RoutinePeer"]
