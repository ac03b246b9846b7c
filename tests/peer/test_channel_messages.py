"""Messages handed straight from aiortc to one callback, bypassing pyee, on a real loopback pair."""

from __future__ import annotations

import pytest
from pyee.asyncio import AsyncIOEventEmitter

from peerperf.peer import channel_messages
from peerperf.peer.aiortc_pins import fingerprint
from peerperf.peer.channel_messages import EMITTER, EMITTER_FINGERPRINT, deliver_messages, direct_delivery_supported
from tests.peer.aiortc_pairs import close_pair, connect_pair, poll


def test_aiortc_emits_messages_the_way_direct_delivery_was_written_against() -> None:
    assert fingerprint(EMITTER) == EMITTER_FINGERPRINT, (
        f"aiortc's {EMITTER} changed: check that it still delivers each message with "
        "channel.emit('message', data), then update EMITTER_FINGERPRINT in peerperf/peer/channel_messages.py"
    )
    assert direct_delivery_supported()


class PyeeCalls:
    """Counts the events that reach pyee's emit, by name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[str] = []
        real_emit = AsyncIOEventEmitter.emit

        def counting_emit(emitter: AsyncIOEventEmitter, event: str, *args: object) -> bool:
            self.events.append(event)
            return real_emit(emitter, event, *args)

        monkeypatch.setattr(AsyncIOEventEmitter, "emit", counting_emit)


@pytest.mark.parametrize("tuned", [False, True], ids=["stock-sctp", "tuned-sctp"])
async def test_every_kind_of_message_reaches_the_callback_without_pyee(
    monkeypatch: pytest.MonkeyPatch, tuned: bool
) -> None:
    a, b = await connect_pair(tuned, tuned)
    try:
        direct: list[bytes | str] = []
        assert deliver_messages(b.channel, direct.append) is True
        pyee = PyeeCalls(monkeypatch)
        sent: list[bytes | str] = [b"binary", "text", b"", "", bytes(range(256)) * 40]
        for message in sent:
            a.channel.send(message)
        await poll(lambda: len(direct) == len(sent), "every message reaches the callback")
        assert direct == sent
        assert b.received == [], "the pyee listener registered before was bypassed"
        assert "message" not in pyee.events

        b.channel.send(b"back")  # the other side, left stock, still goes through pyee
        await poll(lambda: a.received == [b"back"], "the stock side receives")
        assert "message" in pyee.events
    finally:
        await close_pair(a, b)


async def test_other_events_still_go_through_pyee_and_a_closed_channel_delivers_nothing() -> None:
    a, b = await connect_pair(True, True)
    direct: list[bytes | str] = []
    closed: list[bool] = []
    deliver_messages(b.channel, direct.append)
    b.channel.on("close", lambda: closed.append(True))
    a.channel.send(b"one")
    await poll(lambda: direct == [b"one"], "the first message arrives")
    await close_pair(a, b)
    await poll(lambda: closed == [True], "the close event reaches its pyee listener")
    b.channel.emit("message", b"after the close")  # as aiortc would, had it one more in its queue
    assert direct == [b"one"]


async def test_another_aiortc_falls_back_to_an_ordinary_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel_messages, "_SUPPORTED", False)
    a, b = await connect_pair(False, False)
    try:
        pyee = PyeeCalls(monkeypatch)
        direct: list[bytes | str] = []
        assert deliver_messages(b.channel, direct.append) is False
        a.channel.send(b"via pyee")
        await poll(lambda: direct == [b"via pyee"], "the message arrives through the fallback")
        assert "message" in pyee.events
    finally:
        await close_pair(a, b)
