"""A peer that joins the mesh, relays and reports, but originates nothing."""

from __future__ import annotations

from peerperf.routines import RoutinePeer


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    """Do nothing: the peer still connects, relays others' packets and submits its stats."""
