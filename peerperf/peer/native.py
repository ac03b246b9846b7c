"""Loads the compiled data path's C extension (`peerperf.peer._datapath`, built at install when a C
compiler is present: setup.py) and keeps why it could not, so `peerperf --version` can say so."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

EXTENSION = "peerperf.peer._datapath"
#: How to build it in place (a C compiler and Python's headers needed); `pip install` builds it too.
BUILD = "python setup.py build_ext --inplace (needs a C compiler), or reinstall peerperf with one"


def _load(name: str = EXTENSION) -> tuple[ModuleType | None, str]:
    """The extension module, or None and why: not built at all (the usual case, said plainly, since
    Python's own error for a missing submodule reads like a circular import) or built but not loadable."""
    if importlib.util.find_spec(name) is None:
        return None, f"the C extension {name} was not built; build it with: {BUILD}"
    try:
        return importlib.import_module(name), ""
    except ImportError as exc:
        return None, f"the C extension {name} is built but does not load ({exc}); rebuild it with: {BUILD}"


#: The extension, or None; and why not.
datapath, why_not = _load()


def available() -> bool:
    """Whether the C extension loaded."""
    return datapath is not None
