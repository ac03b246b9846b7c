"""An unexpected exception injected into each of a peer's loops is reported, counted in its datapoints,
and the loop goes on (issue 13, "nothing silent")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from peerperf.peer.webrtc_connection import PeerConnection
from peerperf.protocol.signaling_frames import Frame, HeartbeatPayload
from tests.lighthouse.conftest import LighthouseUnderTest, StartLighthouse
from tests.peer.conftest import FAST, MakePeer, eventually

#: The peer closes its own stats windows here, so every datapoint is seen by `on_stats`.
WINDOWS = replace(FAST, stats_update_interval=0.2, expiration_loop_interval=0.1)


@pytest.fixture
async def lighthouse(start_lighthouse: StartLighthouse) -> LighthouseUnderTest:
    return await start_lighthouse()


class FailsOnce:
    """Calls through to `target`, but the `nth` call raises instead."""

    def __init__(self, target: Any, nth: int = 1) -> None:
        self.target, self.nth, self.calls = target, nth, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.nth:
            raise RuntimeError(f"injected failure (call {self.calls})")
        return self.target(*args, **kwargs)


async def test_housekeeping_failure_is_counted_in_the_datapoints(
    lighthouse: LighthouseUnderTest, make_peer: MakePeer, caplog: pytest.LogCaptureFixture
) -> None:
    datapoints: list[dict[str, Any]] = []
    peer, _ = await make_peer(lighthouse, "keeper", settings=WINDOWS, on_stats=datapoints.append)
    assert peer.mesh is not None
    housekeeping = peer.mesh.housekeeping = FailsOnce(peer.mesh.housekeeping)  # type: ignore[method-assign]
    await eventually(lambda: housekeeping.calls >= 4, "housekeeping runs on after the failure")
    await eventually(lambda: sum(d["harnessErrors"] for d in datapoints) == 1, "a datapoint counts the error")
    assert peer.supervisor.errors == 1
    assert "peer keeper: housekeeping failed unexpectedly" in caplog.text
    assert "injected failure" in caplog.text


async def test_a_failed_offer_is_reported_and_the_peers_still_connect(
    lighthouse: LighthouseUnderTest, make_peer: MakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = PeerConnection.offer
    offers = 0

    async def offer_failing_first(self: PeerConnection) -> Any:
        nonlocal offers
        offers += 1
        if offers == 1:
            raise OSError("injected: no socket")
        return await original(self)

    monkeypatch.setattr(PeerConnection, "offer", offer_failing_first)
    a, _ = await make_peer(lighthouse, "a1")
    b, _ = await make_peer(lighthouse, "b1")
    await eventually(lambda: a.connected_ids() == ["b1"] and b.connected_ids() == ["a1"], "a1 and b1 connect")
    assert a.supervisor.errors + b.supervisor.errors == 1


async def test_a_spawned_task_that_fails_is_counted(lighthouse: LighthouseUnderTest, make_peer: MakePeer) -> None:
    peer, _ = await make_peer(lighthouse, "spawner", settings=replace(FAST, stats_update_interval=0))

    async def broken() -> None:
        raise ValueError("injected")

    peer._spawn(broken())
    await eventually(lambda: peer.supervisor.errors == 1, "the failed task is reported")
    assert peer.close_stats_window()["harnessErrors"] == 1
    assert peer.close_stats_window()["harnessErrors"] == 0  # a delta per window, not a running total


async def test_lighthouse_client_heartbeats_go_on_after_a_failure(
    lighthouse: LighthouseUnderTest, make_peer: MakePeer
) -> None:
    peer, _ = await make_peer(lighthouse, "beater", settings=replace(FAST, heartbeat_interval=0.05))
    payload: FailsOnce = FailsOnce(lambda: peer.heartbeat.payload(peer.position))
    peer.client._heartbeat = payload
    await eventually(lambda: payload.calls >= 4, "heartbeats go on after the failed one")
    assert peer.supervisor.errors == 1


async def test_lighthouse_client_reads_on_after_a_frame_breaks_its_handler(
    lighthouse: LighthouseUnderTest, make_peer: MakePeer
) -> None:
    peer, _ = await make_peer(lighthouse, "reader")
    delivered: list[Frame] = []
    handler = FailsOnce(delivered.append)
    peer.client._on_frame = handler
    sender = await lighthouse.connect("sender")
    for n in range(2):
        await sender.send({"type": "CANDIDATE", "dst": "reader", "payload": {"candidate": {}, "n": n}})
    await eventually(lambda: len(delivered) == 1, "the second frame is delivered after the first broke")
    assert handler.calls == 2 and peer.supervisor.errors == 1
    assert delivered[0].payload["n"] == 1
    assert isinstance(peer.heartbeat.payload(peer.position), HeartbeatPayload)


async def test_a_close_the_connection_starts_itself_that_fails_is_counted_and_the_connection_forgotten(
    lighthouse: LighthouseUnderTest, make_peer: MakePeer, caplog: pytest.LogCaptureFixture
) -> None:
    """A channel's `close` event used to start the close as a task nobody kept: its exception was never
    read, and the failed connection stayed registered."""
    a, _ = await make_peer(lighthouse, "a2")
    b, _ = await make_peer(lighthouse, "b2")
    await eventually(lambda: a.connected_ids() == ["b2"] and b.connected_ids() == ["a2"], "a2 and b2 connect")
    connection = a.connections.get("b2")
    assert connection is not None
    close = connection.pc.close

    async def failing_close() -> None:
        await close()
        raise RuntimeError("injected: aiortc's close failed")

    connection.pc.close = failing_close  # type: ignore[method-assign]
    await b.connections.close("a2")  # a2's channel and transport see it go
    await eventually(lambda: a.supervisor.errors == 1, "a2 counts the failed close")
    assert a.connections.get("b2") is not connection
    assert "injected: aiortc's close failed" in caplog.text and "PeerConnection.close" in caplog.text
