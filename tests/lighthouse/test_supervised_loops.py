"""An unexpected exception injected into the lighthouse's loops is reported and counted (`GET /status`
`harnessErrors`), and the loop goes on (issue 13, "nothing silent")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lighthouse.conftest import Served
from tests.peer.conftest import eventually


async def test_a_client_writer_survives_a_frame_it_cannot_write(served: Served) -> None:
    alice = await served.http.connect("alice")
    client = served.lighthouse.clients["alice"]
    client.outbox.put_nowait(b"not text")  # type: ignore[arg-type]  # send_str refuses bytes: the injected fault
    bob = await served.http.connect("bob")
    await bob.send({"type": "CANDIDATE", "dst": "alice", "payload": {"n": 1}})
    frame = await alice.recv_until("CANDIDATE")
    assert frame["payload"] == {"n": 1} and frame["src"] == "bob"
    assert await served.harness_errors() == 1


async def test_a_background_loop_goes_on_after_a_failure(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0
    expire = served.lighthouse.expire_queued

    def failing_once() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("injected")
        expire()

    monkeypatch.setattr(served.lighthouse, "expire_queued", failing_once)
    await eventually(lambda: calls >= 3, "the expiry loop runs on")
    assert await served.harness_errors() == 1
    assert "lighthouse: expiring queued signaling failed unexpectedly" in caplog.text


async def test_a_bug_handling_a_frame_is_answered_and_the_socket_stays(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await served.http.connect("alice")
    handle = served.lighthouse.handle
    calls = 0

    def failing_once(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ZeroDivisionError("injected")
        handle(*args)

    monkeypatch.setattr(served.lighthouse, "handle", failing_once)
    await alice.send({"type": "HEARTBEAT", "payload": {}})
    error = await alice.recv_type("ERROR")
    assert "failed to handle this HEARTBEAT" in error["payload"]["msg"]
    await alice.send({"type": "HEARTBEAT", "payload": {"connectedPeerIds": []}})
    await eventually(lambda: calls == 2, "the next frame is handled")
    assert await served.harness_errors() == 1 and "alice" in served.lighthouse.clients
