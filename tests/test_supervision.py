"""The supervision helper: every unexpected exception is logged with context and counted; loops go on."""

from __future__ import annotations

import asyncio
import inspect
import logging

import pytest

from peerperf.errors import RequestError
from peerperf.supervision import Supervisor
from tests.peer.conftest import eventually


async def test_a_loop_reports_an_error_and_keeps_going(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor("unit under test")
    calls = 0

    def action() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyError("injected")

    supervisor.repeat(0.01, action, "ticking")
    await eventually(lambda: calls >= 5, "the loop ran on after the failure")
    await supervisor.close()
    assert supervisor.errors == 1
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert "unit under test: ticking failed unexpectedly" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError


async def test_a_loop_first_fires_at_its_phase_not_one_interval_in() -> None:
    supervisor = Supervisor("phased")
    calls: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    supervisor.repeat(3600.0, lambda: calls.append(loop.time()), "hourly", first=0.05)
    await eventually(lambda: bool(calls), "the first call, 0.05 s in (not an hour)", timeout=10)
    await supervisor.close()
    assert len(calls) == 1 and calls[0] - started >= 0.04  # (timers may round to the millisecond)


async def test_a_spawned_task_that_raises_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor(lambda: "late-named owner")

    async def broken() -> None:
        raise RuntimeError("injected")

    task = supervisor.spawn(broken(), "a one-off")
    assert task is not None
    await asyncio.wait([task])
    assert supervisor.errors == 1 and not supervisor.tasks
    assert "late-named owner: a one-off failed unexpectedly" in caplog.text


async def test_expected_failures_are_logged_but_not_counted(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor("peer x", expected=(RequestError,))

    async def refused() -> None:
        raise RequestError(409, "conflict", "refused on purpose")

    await supervisor.call(refused, "joining")
    assert supervisor.errors == 0
    assert "peer x: joining failed: refused on purpose" in caplog.text


async def test_close_cancels_everything_and_refuses_new_work() -> None:
    supervisor = Supervisor("closing")
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = supervisor.spawn(forever(), "waiting")
    await started.wait()
    await supervisor.close()
    assert task is not None and task.cancelled()
    late = forever()
    assert supervisor.spawn(late, "too late") is None
    assert inspect.getcoroutinestate(late) == inspect.CORO_CLOSED  # nothing runs, no "never awaited" warning
    assert supervisor.errors == 0


async def test_a_task_may_close_its_own_supervisor() -> None:
    supervisor = Supervisor("self-closing")
    other_started = asyncio.Event()

    async def other() -> None:
        other_started.set()
        await asyncio.Event().wait()

    async def closer() -> None:
        await other_started.wait()
        await supervisor.close()  # e.g. a peer disposed from one of its own tasks

    other_task, closer_task = supervisor.spawn(other(), "other"), supervisor.spawn(closer(), "closer")
    assert other_task is not None and closer_task is not None
    await asyncio.wait_for(closer_task, 10)
    assert other_task.cancelled() and supervisor.errors == 0
