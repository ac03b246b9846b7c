"""Keep Ray's optional serializers from loading libraries a peer-host actor never uses.

Ray 2.60 registers extra serializers in every worker the first time it (de)serializes anything
(`ray.util.serialization_addons`): for pyarrow, which pulls numpy in, and for pydantic. Together
about 20 MB of USS in each peer-host actor, which handles protobuf and JSON only. Ray skips each
of them when its library cannot be imported, so a peer-host worker marks them unimportable before
its first deserialization (Ray imports the actor's class first, then deserializes its arguments).
"""

from __future__ import annotations

import importlib.abc
import logging
import sys
from typing import Any

import ray

log = logging.getLogger(__name__)

#: Imported by Ray's serializer add-ons only if importable, and by nothing a peer host runs.
NOT_NEEDED = ("pyarrow", "pydantic")


def in_ray_worker() -> bool:
    """True inside a Ray worker process (an actor or a task), False in a driver or a plain process."""
    return bool(ray.is_initialized() and ray.get_runtime_context().worker.mode == ray.WORKER_MODE)


class _KeptOut(importlib.abc.MetaPathFinder):
    """Refuses `NOT_NEEDED` with an error that says why (Ray catches it and skips the serializer)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.partition(".")[0] in NOT_NEEDED:
            raise ModuleNotFoundError(
                f"{fullname} is kept out of peer-host workers (peerperf.cluster.lean_worker): "
                "import it lazily in code the peer host does not run",
                name=fullname,
            )
        return None


def skip_unused_serializers() -> None:
    """In a Ray worker that has not loaded them yet, make `NOT_NEEDED` unimportable (a no-op elsewhere)."""
    if not in_ray_worker() or any(name in sys.modules for name in NOT_NEEDED):
        return
    if not any(isinstance(finder, _KeptOut) for finder in sys.meta_path):
        sys.meta_path.insert(0, _KeptOut())
        log.debug("%s kept out of this worker", ", ".join(NOT_NEEDED))
