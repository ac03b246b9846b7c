"""Loads the compiled data path's C extension (`peerperf.peer._datapath`, built at install when a C
compiler is present: setup.py) and keeps why it could not, so `peerperf --version` can say so."""

from __future__ import annotations

from types import ModuleType


def _load() -> tuple[ModuleType | None, str]:
    try:
        from peerperf.peer import _datapath
    except ImportError as exc:
        return None, f"the C extension peerperf.peer._datapath is not built ({exc}); reinstall with a C compiler"
    return _datapath, ""


#: The extension, or None; and why not.
datapath, why_not = _load()


def available() -> bool:
    """Whether the C extension loaded."""
    return datapath is not None
