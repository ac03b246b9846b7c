"""The baseline actor of the Ray benchmarks, in a module of its own: a worker that unpickles it
imports this file and nothing else of ours."""

from __future__ import annotations

import os


class IdleActor:
    """A Ray actor that does nothing: what any actor process costs."""

    def pid(self) -> int:
        return os.getpid()
