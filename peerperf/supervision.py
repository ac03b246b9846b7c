"""Background work that fails loudly: spawn tasks and periodic loops whose every error is seen.

A long-lived component (a peer, its lighthouse client, the lighthouse, a peer host, the results
flusher) runs its background work through one `Supervisor`. An exception nobody expected is logged
with the component's name, what it was doing and the traceback, counted in `errors` (which the
component reports: in its datapoints, the live view or its `/status`), and a periodic loop goes on.
Failures of the `expected` types (a refused request, an unreachable lighthouse) are logged as
warnings and not counted: they are measured elsewhere. No task's exception goes unretrieved.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Owner = str | Callable[[], str]


class Supervisor:
    """Spawns and repeats a component's background work; logs and counts what it raises."""

    def __init__(
        self, owner: Owner, expected: tuple[type[BaseException], ...] = (), logger: logging.Logger | None = None
    ) -> None:
        self._owner = owner
        self.expected = expected
        self._log = logger or log
        #: Unexpected exceptions so far (the component reports this count).
        self.errors = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def owner(self) -> str:
        return self._owner() if callable(self._owner) else self._owner

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        """The tasks still running."""
        return frozenset(self._tasks)

    def report(self, what: str, exc: BaseException) -> None:
        """Log `exc`, raised while doing `what`; count it unless it is of an expected type."""
        if isinstance(exc, self.expected):
            self._log.warning("%s: %s failed: %s", self.owner, what, exc)
            return
        self.errors += 1
        self._log.error(
            "%s: %s failed unexpectedly (harness error %d): %r", self.owner, what, self.errors, exc, exc_info=exc
        )

    def spawn(self, work: Awaitable[Any], what: str) -> asyncio.Task[Any] | None:
        """Run `work` as a task whose exception, if any, is reported; None once closed (`work` is dropped)."""
        if self._closed:
            if inspect.iscoroutine(work):
                work.close()
            return None
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))
        return task

    def repeat(
        self, interval: float, action: Callable[[], Any], what: str, first: float | None = None
    ) -> asyncio.Task[Any] | None:
        """Spawn a loop calling `action` (sync or async) every `interval` s; an error never ends it.

        The first call comes `first` s in (one `interval` when None): a phase, so that components
        started together do not run their loops together."""
        return self.spawn(self.every(interval, action, what, first), what)

    async def every(self, interval: float, action: Callable[[], Any], what: str, first: float | None = None) -> None:
        """Call `action` after `first` s (default `interval`), then every `interval` s until cancelled,
        reporting whatever one call raises."""
        await asyncio.sleep(interval if first is None else first)
        while True:
            await self.call(action, what)
            await asyncio.sleep(interval)

    async def call(self, action: Callable[[], Any], what: str) -> None:
        """Call `action` once (awaiting it if it is async); an exception is reported, not raised."""
        try:
            result = action()
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            self.report(what, exc)

    def _finished(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.report(what, exc)

    async def close(self) -> None:
        """Cancel every task and wait for them; nothing is spawned afterwards."""
        self._closed = True
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]  # close() from inside one
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
