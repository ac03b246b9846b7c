"""The start barrier on real Ray actors: no host joins its peers while others are still starting,
and a host that never starts holds the others back only for `JOIN_QUIET` seconds."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest
import ray

from peerperf.cluster import barrier as barrier_module
from peerperf.cluster.barrier import barrier
from peerperf.cluster.placement import PlacedHost
from peerperf.config import RunConfig
from peerperf.run_state import RunOutcome
from peerperf.sim.host_reports import SetupReport
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix


def _gated_host_class() -> Any:
    """A stand-in peer host whose start waits for a gate file (defined here so Ray ships it by value)."""

    class GatedHost:
        def __init__(self, gate: str | None, watched_gate: str) -> None:
            self.watched_gate = watched_gate
            self.setup_saw_gate_open: bool | None = None
            deadline = time.monotonic() + 120
            while gate is not None and not Path(gate).exists() and time.monotonic() < deadline:
                time.sleep(0.05)  # polling the condition this actor's start waits for

        def progress(self) -> int:
            return 0

        def setup(self, peer_id: str) -> SetupReport:
            self.setup_saw_gate_open = Path(self.watched_gate).exists()
            return SetupReport("host", "node", [peer_id], {})

        def setup_called(self) -> bool | None:
            return self.setup_saw_gate_open

    return GatedHost


class _Host:
    """Adapts the stand-in to the peer-host calls the barrier makes (`setup()` takes no argument)."""

    def __init__(self, actor: Any, peer_id: str) -> None:
        self.actor = actor
        self.progress = actor.progress
        self.setup = _Bound(actor, peer_id)


class _Bound:
    def __init__(self, actor: Any, peer_id: str) -> None:
        self.actor, self.peer_id = actor, peer_id

    def remote(self) -> Any:
        return self.actor.setup.remote(self.peer_id)


def _placed(gates: list[str | None], watched: Path) -> list[PlacedHost]:
    specs = plan_peers(Population(len(gates), parse_mix("idle"), layer="barrier"), random.Random(0))
    remote = ray.remote(_gated_host_class()).options(num_cpus=0)
    return [
        (_Host(remote.remote(gate, str(watched)), spec.peer_id), [spec])
        for gate, spec in zip(gates, specs, strict=True)
    ]


async def _until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.usefixtures("local_ray")
async def test_no_host_joins_its_peers_while_another_is_still_starting(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    placed = _placed([None, None, str(gate)], watched=gate)
    early = [host.actor for host, _ in placed[:2]]
    outcome = RunOutcome()
    waiting = asyncio.ensure_future(barrier(placed, RunConfig(peers=3), asyncio.Event(), outcome, lambda *a, **k: None))
    try:
        await asyncio.gather(*(actor.progress.remote() for actor in early))  # two hosts are up
        called_early = await _until(
            lambda: _any(actor.setup_called.remote() for actor in early),
            timeout=min(3.0, barrier_module.JOIN_QUIET / 2),
        )
        assert not called_early, "a started host joined its peers while another host was still starting"
        gate.touch()
        ready = await asyncio.wait_for(waiting, timeout=120)
        assert len(ready) == 3 and outcome.missing == {}
        saw_open = await asyncio.gather(*(host.actor.setup_called.remote() for host, _ in placed))
        assert saw_open == [True, True, True]
    finally:
        gate.touch()
        for host, _ in placed:
            ray.kill(host.actor)


@pytest.mark.usefixtures("local_ray")
async def test_a_host_that_never_starts_delays_the_others_only_for_the_quiet_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(barrier_module, "JOIN_QUIET", 1.0)
    never = tmp_path / "never"
    placed = _placed([None, None, str(never)], watched=tmp_path / "unused")
    outcome = RunOutcome()
    # The never-started host runs the ready timeout out; 10 s still leaves the two others (an actor each, up
    # in a second or two) several times what they need to start, and a late one would fail the test, not pass it.
    config = RunConfig(peers=3, ready_timeout=10.0, on_missing="proceed")
    try:
        ready = await barrier(placed, config, asyncio.Event(), outcome, lambda *a, **k: None)
        assert {id(host) for host in ready} == {id(host) for host, _ in placed[:2]}, outcome.missing
        (stuck_peer,) = placed[2][1]
        assert list(outcome.missing) == [stuck_peer.peer_id]
        assert "was not placed" in outcome.missing[stuck_peer.peer_id]
    finally:
        never.touch()
        for host, _ in placed:
            ray.kill(host.actor)


async def _any(refs: Any) -> bool:
    return any(await asyncio.gather(*refs))
