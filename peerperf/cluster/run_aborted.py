"""The one way a step of the run says it cannot go on."""

from __future__ import annotations

from peerperf.errors import PeerperfError


class RunAborted(PeerperfError):
    """The run cannot go on (peers missing at the deadline, capacity, a finished test...)."""
