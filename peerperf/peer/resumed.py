"""Finishing a coroutine that was started synchronously and suspended: the fast and compiled data paths run
SCTP's coroutines with `send(None)` on the spot (most never suspend) and, when one does, hand it on to a
Task through this awaitable, so it resumes exactly where it stopped."""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from functools import partial
from typing import Any


class Resumed:
    """Awaiting this continues coroutine `work`, already started and suspended on `suspended`."""

    def __init__(self, work: Coroutine[Any, Any, None], suspended: Any) -> None:
        self._work = work
        self._suspended = suspended

    def __await__(self) -> Generator[Any, Any, None]:
        work, pending = self._work, self._suspended
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                work.close()
                raise
            except BaseException as exc:  # a cancellation goes into the work, as a plain await would pass it
                step = partial(work.throw, exc)
            else:
                step = partial(work.send, sent)
            try:
                pending = step()
            except StopIteration:
                return
