"""A failed host is replaced only once it is dead: waited for, or killed when it still answers or hangs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import ray

from peerperf.cluster import host_restarts
from peerperf.cluster.host_restarts import until_dead


class Host:
    """Answers `progress` at once, or after `delay` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def progress(self) -> int:
        await asyncio.sleep(self.delay)
        return 0

    def ready(self) -> bool:
        return True


def spawn(delay: float = 0.0) -> Any:
    remote: Any = ray.remote(Host)
    host = remote.options(num_cpus=0).remote(delay)
    assert ray.get(host.ready.remote(), timeout=60)
    return host


def dies(host: Any, timeout: float = 30.0) -> bool:
    """Whether Ray declares `host` dead within `timeout` (a kill takes effect shortly after `ray.kill` returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ray.get(host.progress.remote(), timeout=5)
        except ray.exceptions.ActorDiedError:
            return True
        except ray.exceptions.GetTimeoutError:
            continue  # the slow host, not dead yet
        time.sleep(0.1)
    return False


@pytest.mark.usefixtures("local_ray")
async def test_a_dead_host_is_not_waited_for() -> None:
    host = spawn()
    ray.kill(host)
    started = time.monotonic()
    await until_dead(host)
    assert time.monotonic() - started < host_restarts.ANSWER_TIMEOUT


@pytest.mark.usefixtures("local_ray")
async def test_a_host_that_still_answers_is_killed_first() -> None:
    host = spawn()
    await until_dead(host)
    assert dies(host)


@pytest.mark.usefixtures("local_ray")
async def test_a_host_that_never_answers_is_killed_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_restarts, "ANSWER_TIMEOUT", 0.2)
    host = spawn(delay=600)
    started = time.monotonic()
    await until_dead(host, timeout=1.0)
    assert 1.0 <= time.monotonic() - started < 10 and dies(host)
