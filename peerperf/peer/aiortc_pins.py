"""The aiortc release peerperf's transport code is pinned to, and fingerprints of the internals it relies on.

The SCTP tuning, the fast and compiled data paths and the channel's message hand-off override or copy
private code of aiortc (and of aioice and pyOpenSSL). Each declares the functions it relies on with a
fingerprint of their source; any drift turns that code off, and the tests fail loudly.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from typing import Any

from aiortc import rtcsctptransport as stock

#: The aiortc release whose internals the transport code was written against and tested with.
PINNED_AIORTC = "1.16.0"


def fingerprint(qualified_name: str) -> str:
    """The fingerprint of one function: "module:qualified.name", or a name in aiortc's SCTP module as in
    `RELIED_ON`."""
    module_name, _, path = qualified_name.rpartition(":")
    target: Any = importlib.import_module(module_name) if module_name else stock
    for part in path.split("."):
        target = getattr(target, part)
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()[:16]


def changed_functions(relied_on: dict[str, str]) -> list[str]:
    """The functions of `relied_on` (name -> fingerprint) whose source differs or is gone."""
    changed = []
    for name, digest in relied_on.items():
        try:
            if fingerprint(name) != digest:
                changed.append(name)
        except (AttributeError, ImportError, OSError, TypeError):
            changed.append(f"{name} (missing)")
    return changed
