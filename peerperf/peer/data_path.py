"""Which receive path a peer's data channels run: the one asked for (`PeerSettings.data_path`) when this
installation can run it, else the next one down (compiled -> python-fast -> stock), and why."""

from __future__ import annotations

from importlib.metadata import version

from aiortc.rtcsctptransport import RTCSctpTransport

from peerperf.peer import compiled_path, fast_path
from peerperf.peer.settings import COMPILED_DATA_PATH, PYTHON_FAST_DATA_PATH, STOCK_DATA_PATH


def in_effect(requested: str) -> str:
    """The data path a peer asking for `requested` runs in this installation."""
    if requested == COMPILED_DATA_PATH and compiled_path.available():
        return COMPILED_DATA_PATH
    if requested in (COMPILED_DATA_PATH, PYTHON_FAST_DATA_PATH) and fast_path.available():
        return PYTHON_FAST_DATA_PATH
    return STOCK_DATA_PATH


def describe(requested: str) -> str:
    """One line saying which data path a peer asking for `requested` runs here, and why (`peerperf --version`)."""
    ran = in_effect(requested)
    if ran == requested:
        return f"data path {ran} (aiortc {version('aiortc')})"
    off = compiled_path.why_not() if requested == COMPILED_DATA_PATH else ", ".join(fast_path.drifted_internals())
    return f"data path {ran}: {requested} is off: {off}"


def install(sctp: RTCSctpTransport, requested: str) -> str:
    """Give `sctp` the receive path `requested` (or the next one down); the one it got."""
    if requested == COMPILED_DATA_PATH:
        compiled_path.install(sctp)
    elif requested == PYTHON_FAST_DATA_PATH:
        fast_path.install(sctp)
    return in_effect(requested)
