"""The compiled path's sender (`compiled_sender.CompiledSctpTransport`) leaves the wire and the state as the
tuned SCTP does: the same packets, `_sent_queue` (every chunk's fields and flags), outbound queue, flight
size, cwnd, stream sequence numbers, buffered amounts and their "bufferedamountlow" events and T3 deadline
after the same scripted sends, SACKs and clock jumps on two identical senders; messages it does not take (a
lifetime, fragments, an unregistered channel, something to retransmit) go through aiortc's loop; T3 still
expires and retransmits when no SACK comes, restarted lazily without firing early; a flush runs without a
Task. Live connections under loss, duplication and reordering: tests/peer/test_compiled_sack.py and
tests/peer/test_fast_path.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiortc import RTCDataChannel
from aiortc.rtcsctptransport import USERDATA_MAX_LENGTH

from peerperf.peer import native
from peerperf.peer.compiled_path import CompiledReceiver
from peerperf.peer.compiled_sender import CompiledSctpTransport, compile_sender
from peerperf.peer.sctp_tuning import TunedSctpTransport
from tests.peer.aiortc_pairs import close_pair, connect_pair, exchange, poll
from tests.peer.test_compiled_sack import MESSAGE, Clock, Sender, clock, sack, sender, tsn

__all__ = ["clock"]  # the fixture, used here by name


@dataclass
class Channel:
    """What aiortc's flush reads of a data channel, and the buffered amount it changes: on aiortc's own
    attribute names, with aiortc's `_addBufferedAmount`, and a "bufferedamountlow" listener that counts."""

    id: int | None
    ordered: bool = True
    maxPacketLifeTime: int | None = None
    maxRetransmits: int | None = None
    _RTCDataChannel__bufferedAmount: int = 0
    _RTCDataChannel__bufferedAmountLowThreshold: int = 0
    low_events: int = 0

    @property
    def buffered(self) -> int:
        return self._RTCDataChannel__bufferedAmount

    _addBufferedAmount = RTCDataChannel._addBufferedAmount
    bufferedAmountLowThreshold = RTCDataChannel.bufferedAmountLowThreshold

    def listeners(self, event: str) -> list[Callable[[], None]]:
        return [self._low] if event == "bufferedamountlow" else []

    def emit(self, event: str) -> None:
        if event == "bufferedamountlow":
            self._low()

    def _low(self) -> None:
        self.low_events += 1

    def _setId(self, stream_id: int) -> None:
        self.id = stream_id


class LoopClock:
    """The event loop's clock, movable forward: T3 deadlines that both senders see alike, and expiry
    without waiting (timers and sleeps still run on real time plus the offset)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.offset = 0.0
        self._real = loop.time

    def __call__(self) -> float:
        return self._real() + self.offset


@pytest.fixture
async def loop_clock(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LoopClock]:
    loop = asyncio.get_running_loop()
    fake = LoopClock(loop)
    monkeypatch.setattr(loop, "time", fake)
    yield fake


@dataclass
class Pair:
    """The same sender twice: the tuned SCTP's, and the compiled one."""

    tuned: Sender
    compiled: Sender
    channels: dict[str, tuple[Channel, Channel]]


def make_pair() -> Pair:
    made = []
    for compiled in (False, True):
        s = sender(tuned=True)
        del s.sctp._receive_sack_chunk, s.sctp._data_channel_flush  # the SACK test's counters: not needed here
        s.sctp._data_channel_id = 9
        if compiled:
            compile_sender(s.sctp)
        made.append(s)
    assert type(made[0].sctp) is TunedSctpTransport and type(made[1].sctp) is CompiledSctpTransport
    kinds = {
        "ordered": {"id": 1},
        "unordered": {"id": 3, "ordered": False},
        "no retransmits": {"id": 5, "maxRetransmits": 0},
        "lifetime": {"id": 7, "maxPacketLifeTime": 500},
        "unregistered": {"id": None},
    }
    channels = {name: (Channel(**options), Channel(**options)) for name, options in kinds.items()}  # type: ignore[arg-type]
    return Pair(made[0], made[1], channels)


def state(s: Sender, channels: list[Channel]) -> dict[str, Any]:
    sctp = s.sctp
    handle = sctp._t3_handle
    deadline = None if handle is None else getattr(sctp, "_t3_deadline", None) or handle.when()
    return {
        "sent_queue": [
            (
                c.tsn,
                c.flags,
                c.stream_id,
                c.stream_seq,
                c.protocol,
                c.user_data,
                c._acked,
                c._in_flight,
                c._retransmit,
                c._abandoned,
                c._misses,
                c._sent_count,
                c._sent_time,
                c._book_size,
                c._expiry,
                c._max_retransmits,
            )
            for c in sctp._sent_queue
        ],
        "outbound_queue": [(c.tsn, c.stream_seq, c._sent_count, c._in_flight) for c in sctp._outbound_queue],
        "queued_messages": len(sctp._data_channel_queue),
        "stream_seq": dict(sctp._outbound_stream_seq),
        "registered": sorted(sctp._data_channels),
        "buffered": [c.buffered for c in channels],
        "low_events": [c.low_events for c in channels],
        "channel_ids": [c.id for c in channels],
        **{
            name: getattr(sctp, name)
            for name in ("_local_tsn", "_last_sacked_tsn", "_flight_size", "_cwnd", "_ssthresh", "_rto", "_sack_needed")
        },
        "partial_bytes_acked": sctp._partial_bytes_acked,
        "t3_deadline": deadline,
        "corked": (len(sctp._corked_data), sctp._corked_sack is not None, sctp._cork_depth),
        "sent": list(s.dtls.sent),
    }


Step = Callable[[Any, dict[str, Channel]], Awaitable[None] | None]


def sends(*messages: tuple[str, bytes | str]) -> Step:
    """Messages queued on named channels in one loop turn, as `RTCDataChannel.send` queues them."""

    def queue(sctp: Any, channels: dict[str, Channel]) -> None:
        for name, data in messages:
            sctp._data_channel_send(channels[name], data)

    return queue


def receive(packet: bytes) -> Step:
    """A packet from the remote: the compiled receive path for the compiled sender (as `CompiledReceiver`
    takes it), aiortc's `_handle_data` for the tuned one."""

    async def handle(sctp: Any, _channels: dict[str, Channel]) -> None:
        if isinstance(sctp, CompiledSctpTransport):
            chunks = CompiledReceiver._steady(sctp, packet)
            assert chunks is not None, "not the steady state"
            await CompiledReceiver._handle_steady(sctp, chunks)
        else:
            await sctp._handle_data(packet)

    return handle


def ack_all() -> Step:
    """A SACK of everything sent so far."""

    async def handle(sctp: Any, channels: dict[str, Channel]) -> None:
        await receive(sack((sctp._local_tsn - 1) % 2**32))(sctp, channels)  # type: ignore[misc]

    return handle


def on_chunk(index: int, name: str, value: Any) -> Step:
    return lambda sctp, _channels: setattr(sctp._sent_queue[index], name, value)


def set_attr(name: str, value: Any) -> Step:
    return lambda sctp, _channels: setattr(sctp, name, value)


def settled(s: Sender) -> bool:
    """No flush or delayed work left to run (what the step scheduled has happened)."""
    sctp = s.sctp
    return not sctp._flush_scheduled and not sctp._tasks


#: (what, a step done alike on both senders, or a number of seconds the loop's clock jumps).
SCRIPT: list[tuple[str, Step | float]] = [
    ("cwnd of 6 messages", set_attr("_cwnd", 6 * len(MESSAGE))),
    ("send 4", sends(*[("ordered", MESSAGE)] * 4)),
    ("ack 2", receive(sack(tsn(1)))),
    ("send 5: cwnd fills, the rest waits", sends(*[("ordered", MESSAGE)] * 5)),
    ("more while some wait", sends(("ordered", MESSAGE), ("unordered", MESSAGE))),
    ("ack 4: the waiting ones leave", receive(sack(tsn(5)))),
    ("ack all", ack_all()),
    ("cwnd of 40 messages", set_attr("_cwnd", 40 * len(MESSAGE))),
    (
        "unordered, no retransmits, text, empty",
        sends(("unordered", MESSAGE), ("no retransmits", "hé"), ("ordered", "")),
    ),
    (
        "empty bytes, then a lifetime between steady ones",
        sends(("ordered", b""), ("lifetime", MESSAGE), ("ordered", MESSAGE)),
    ),
    ("a message in fragments", sends(("ordered", b"f" * (USERDATA_MAX_LENGTH * 2 + 5)), ("ordered", MESSAGE))),
    ("a channel not yet registered", sends(("unregistered", MESSAGE), ("unregistered", MESSAGE))),
    ("ack 3", receive(sack(tsn(13)))),
    ("a chunk waits for retransmission", on_chunk(0, "_retransmit", True)),
    ("send 1: aiortc's loop resends it first", sends(("ordered", MESSAGE))),
    ("the clock moves 0.5 s", 0.5),
    ("ack 2: T3 restarts later", receive(sack(tsn(15)))),
    ("the clock moves past the old deadline, not the new", 0.7),
    ("send 2", sends(("ordered", MESSAGE), ("unordered", MESSAGE))),
    ("the clock moves past the new deadline: T3 expires", 0.6),
    ("ack all at last", ack_all()),
    ("send 3 after the expiry", sends(*[("ordered", MESSAGE)] * 3)),
    ("ack them", ack_all()),
]


Row = tuple[str, dict[str, Any], dict[str, Any]]


async def jump(pair: Pair, seconds: float, loop_clock: LoopClock, clock: Clock) -> None:
    """Both clocks jump; wait until every T3 timer now due has fired, and what expired was sent again."""
    sides = (pair.tuned, pair.compiled)
    sent_before = [len(s.dtls.sent) for s in sides]
    deadlines = [state(s, [])["t3_deadline"] for s in sides]
    loop_clock.offset += seconds
    clock.now += seconds
    due = [d is not None and d <= loop_clock() for d in deadlines]
    compiled = pair.compiled.sctp
    await poll(
        lambda: (
            all(not due[i] or len(s.dtls.sent) > sent_before[i] for i, s in enumerate(sides))
            and (compiled._t3_timer is None or compiled._t3_timer_when > loop_clock())
        ),
        f"the clock jumped {seconds} s: every T3 timer due has fired",
        timeout=10,
    )


async def run_script(pair: Pair, loop_clock: LoopClock, clock: Clock) -> list[Row]:
    rows = []
    sides = (pair.tuned, pair.compiled)
    for what, step in SCRIPT:
        clock.now += 0.0173
        if isinstance(step, float):
            await jump(pair, step, loop_clock, clock)
        else:
            for index, s in enumerate(sides):
                channels = {name: pair_[index] for name, pair_ in pair.channels.items()}
                result = step(s.sctp, channels)
                if result is not None:
                    await result
        await poll(lambda: all(settled(s) for s in sides), f"{what}: the flushes ran", timeout=10)
        tuned, compiled = (state(s, [c[i] for c in pair.channels.values()]) for i, s in enumerate(sides))
        rows.append((what, tuned, compiled))
    return rows


def same(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """Equal, but for the T3 deadline, read off the loop's clock a moment apart on the two senders."""
    a, b = expected["t3_deadline"], got["t3_deadline"]
    if (a is None) != (b is None) or (a is not None and abs(a - b) > 0.05):
        return False
    return {**expected, "t3_deadline": None} == {**got, "t3_deadline": None}


async def test_the_compiled_sender_leaves_wire_and_state_as_the_tuned_one(loop_clock: LoopClock, clock: Clock) -> None:
    assert native.datapath is not None, native.why_not
    pair = make_pair()
    try:
        rows = await run_script(pair, loop_clock, clock)
    finally:
        for s in (pair.tuned, pair.compiled):
            s.sctp._t3_cancel()
    for what, expected, got in rows:
        assert same(expected, got), f"after {what!r}:\n{expected}\n{got}"
    seen = {what: expected for what, expected, _got in rows}
    # The script reaches what it claims to (else the comparisons above prove less than they say).
    assert seen["send 5: cwnd fills, the rest waits"]["outbound_queue"], "cwnd never held a chunk back"
    assert not seen["ack 4: the waiting ones leave"]["outbound_queue"]
    fragments = [c[1] & 0x03 for c in seen["a message in fragments"]["sent_queue"]]
    assert 0x02 in fragments and 0x01 in fragments, "no message sent in fragments"
    assert seen["a channel not yet registered"]["channel_ids"][-1] == 9
    assert seen["a channel not yet registered"]["stream_seq"][9] == 2
    lifetime = seen["empty bytes, then a lifetime between steady ones"]["sent_queue"]
    assert any(c[14] is not None for c in lifetime), "the lifetime message has no expiry"
    resent = seen["send 1: aiortc's loop resends it first"]
    assert not any(c[8] for c in resent["sent_queue"]) and resent["sent_queue"][0][11] == 2
    restarted, moved = seen["ack 2: T3 restarts later"], seen["the clock moves past the old deadline, not the new"]
    assert restarted["_rto"] == 1, "the clock jumps of the script assume an RTO of 1 s"
    assert restarted["t3_deadline"] > seen["the clock moves 0.5 s"]["t3_deadline"] + 0.4, "T3 did not restart"
    assert len(moved["sent"]) == len(restarted["sent"]), "T3 fired at the old deadline"
    expired = seen["the clock moves past the new deadline: T3 expires"]
    assert expired["_cwnd"] == USERDATA_MAX_LENGTH and len(expired["sent"]) > len(seen["send 2"]["sent"])
    assert seen["ack them"]["t3_deadline"] is None and not seen["ack them"]["sent_queue"]
    assert all(c.buffered == 0 for c in pair.channels["ordered"])


async def test_a_flush_runs_in_a_loop_callback_not_a_task() -> None:
    pair = make_pair()
    sctp = pair.compiled.sctp
    channel = pair.channels["ordered"][1]
    tasks = len(asyncio.all_tasks())
    sctp._data_channel_send(channel, MESSAGE)
    sctp._data_channel_send(channel, MESSAGE)
    assert len(asyncio.all_tasks()) == tasks, "a Task per flush"
    await poll(lambda: settled(pair.compiled), "the flush ran")
    assert len(pair.compiled.dtls.sent) == 1 and len(sctp._sent_queue) == 2
    sctp._t3_cancel()


async def test_a_flush_that_suspends_finishes_in_a_task_and_a_failed_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pair = make_pair()
    sctp, dtls = pair.compiled.sctp, pair.compiled.dtls
    release = asyncio.Event()
    send_data = dtls._send_data

    async def slow(data: bytes) -> None:
        await release.wait()
        await send_data(data)

    dtls._send_data = slow  # type: ignore[method-assign]
    sctp._data_channel_send(pair.channels["ordered"][1], MESSAGE)
    await poll(lambda: bool(sctp._tasks), "the suspended flush went on in a Task")
    release.set()
    await poll(lambda: settled(pair.compiled) and len(dtls.sent) == 1, "the suspended flush finished")

    async def broken(data: bytes) -> None:
        raise RuntimeError("the socket is on fire")

    dtls._send_data = broken  # type: ignore[method-assign]
    sctp._data_channel_send(pair.channels["ordered"][1], MESSAGE)
    await poll(lambda: "SCTP background send failed" in caplog.text, "the failed flush was logged")
    assert "the socket is on fire" in caplog.text
    sctp._t3_cancel()


async def test_t3_expires_when_no_sack_comes(loop_clock: LoopClock) -> None:
    """With no SACK at all, T3 expires at `_rto` after the first send and the chunks go again, as aiortc does."""
    pair = make_pair()
    for s in (pair.tuned, pair.compiled):
        s.sctp._data_channel_send(pair.channels["ordered"][1 if s is pair.compiled else 0], MESSAGE)
    await poll(lambda: all(len(s.dtls.sent) == 1 for s in (pair.tuned, pair.compiled)), "both sent")
    loop_clock.offset += pair.compiled.sctp._rto + 0.01
    await poll(lambda: all(len(s.dtls.sent) == 2 for s in (pair.tuned, pair.compiled)), "both resent on T3 expiry")
    for s in (pair.tuned, pair.compiled):
        assert s.dtls.sent[1] == s.dtls.sent[0] and s.sctp._sent_queue[0]._sent_count == 2
        assert s.sctp._t3_handle is not None, "T3 restarted with the retransmission"
        s.sctp._t3_cancel()
    assert pair.compiled.sctp._cwnd == pair.tuned.sctp._cwnd == USERDATA_MAX_LENGTH


async def test_a_live_compiled_sender_sends_through_the_fast_path_directly() -> None:
    """Compiled against stock aiortc, with nothing wrapped around the compiled side's `_send_data`: its
    packets go out through `FastReceiver.send_now` (no coroutine per packet), every message arrives once and
    in order both ways, and the sender ends drained."""
    a, b = await connect_pair(True, False, fast_offerer=True, fast_kind="compiled")
    try:
        dtls: Any = a.sctp.transport
        receiver = dtls._peerperf_fast
        dtls._send_data = receiver.send_data  # undo the test tap: the compiled path's own send
        assert type(a.sctp) is CompiledSctpTransport
        sent_before = receiver.sent
        await exchange(a, b, 500)
        assert receiver.sent > sent_before + 20, "the compiled side's packets did not leave by the fast path"
        await poll(lambda: not a.sctp._sent_queue and a.sctp._t3_handle is None, "every chunk acknowledged")
        assert a.sctp._flight_size == 0
    finally:
        await close_pair(a, b)


async def test_buffered_amount_low_fires_on_the_compiled_path_only_when_listened_to() -> None:
    """A real channel: its buffered amount back to 0 once sent, and "bufferedamountlow" to a listener as
    often as messages drain it; without a listener, no emit at all (pyee's would do nothing)."""
    a, b = await connect_pair(True, False, fast_offerer=True, fast_kind="compiled")
    try:
        assert type(a.sctp) is CompiledSctpTransport
        channel = a.channel
        lows: list[int] = []
        channel.on("bufferedamountlow", lambda: lows.append(channel.bufferedAmount))
        await exchange(a, b, 50)
        assert lows and all(amount == 0 for amount in lows) and channel.bufferedAmount == 0
        channel.remove_all_listeners("bufferedamountlow")
        emitted: list[str] = []
        plain_emit = channel.emit

        def recording_emit(event: str, *args: Any) -> bool:
            emitted.append(event)
            return plain_emit(event, *args)

        channel.emit = recording_emit  # type: ignore[method-assign]
        a.received.clear()
        b.received.clear()
        await exchange(a, b, 50)
        assert "bufferedamountlow" not in emitted and channel.bufferedAmount == 0
    finally:
        await close_pair(a, b)
