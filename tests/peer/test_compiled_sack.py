"""The compiled path's SACK receipt (`_datapath.sack_steady` + `compiled_path.receive_sack`) leaves the
sender exactly as aiortc's `_receive_sack_chunk` does: the same `_sent_queue` (every chunk's flags), flight
size, cwnd, ssthresh, partial bytes acked, RTT/RTO, T3 timer, advanced ack point, FORWARD-TSN state and the
same packets sent, after the same scripted packets on two identical SCTP senders (stock and tuned), and
after random SACKs on random senders. SACKs it does not take (gap blocks, duplicates, fast recovery) go to
aiortc's method with nothing changed first; malformed SACK bodies fail as aiortc's parse fails. A live
connection, clean and under loss, duplication and reordering, ends with the compiled sender drained as
the stock peer's. More live connections: tests/peer/test_fast_path.py."""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc.rtcsctptransport import USERDATA_MAX_LENGTH, RTCSctpTransport, SackChunk, serialize_packet

from peerperf.peer import native
from peerperf.peer.compiled_path import CompiledReceiver, receive_sack
from peerperf.peer.compiled_sender import CompiledSctpTransport
from peerperf.peer.impairment import Impairment
from peerperf.peer.sctp_tuning import tune
from tests.peer.aiortc_pairs import close_pair, connect_pair, exchange, poll
from tests.peer.test_fast_path import ROUGH

TAG = 0x1234ABCD
#: The first TSN sent: the queue wraps past 2^32 - 1 within the script.
FIRST_TSN = 0xFFFFFFFC
STREAM = 1
MESSAGE = b"m" * 100


class Dtls:
    """A stand-in for the DTLS transport beneath SCTP: keeps what SCTP sends."""

    state = "connected"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def _send_data(self, data: bytes) -> None:
        self.sent.append(data)


@dataclass
class Sender:
    """One SCTP sender in the steady state, and how many SACKs went to aiortc's own method."""

    sctp: Any
    dtls: Dtls
    by_aiortc: int = 0
    flushes: int = 0
    t3_handles: list[Any] = field(default_factory=list)


def sender(tuned: bool) -> Sender:
    dtls = Dtls()
    sctp: Any = RTCSctpTransport(dtls)  # type: ignore[arg-type]
    if tuned:
        assert tune(sctp)
    sctp._association_state = RTCSctpTransport.State.ESTABLISHED
    sctp._remote_port = 5000
    sctp._local_verification_tag = TAG
    sctp._remote_verification_tag = 0x0BADBEEF
    sctp._last_received_tsn = 77
    sctp._ssthresh = 1 << 20  # the remote's advertised window, as its INIT sets it
    sctp._local_tsn = FIRST_TSN
    sctp._last_sacked_tsn = sctp._advanced_peer_ack_tsn = FIRST_TSN - 1
    made = Sender(sctp, dtls)
    receive = sctp._receive_sack_chunk

    async def counted(chunk: SackChunk) -> None:
        made.by_aiortc += 1
        await receive(chunk)

    flush = sctp._data_channel_flush

    async def counted_flush() -> None:
        made.flushes += 1
        await flush()

    sctp._receive_sack_chunk = counted
    sctp._data_channel_flush = counted_flush
    return made


def sack(cumulative: int, gaps: list[tuple[int, int]] | None = None, duplicates: list[int] | None = None) -> bytes:
    """An SCTP packet holding one SACK, to `TAG`."""
    chunk = SackChunk()
    chunk.cumulative_tsn, chunk.advertised_rwnd = cumulative % 2**32, 1 << 20
    chunk.gaps, chunk.duplicates = gaps or [], duplicates or []
    return serialize_packet(5000, 5000, TAG, chunk)


def state(s: Sender) -> dict[str, Any]:
    """What a SACK may change on the sender, and what it sent."""
    sctp = s.sctp
    forward = sctp._forward_tsn_chunk
    return {
        "sent_queue": [
            (c.tsn, c._acked, c._in_flight, c._retransmit, c._abandoned, c._misses, c._sent_count)
            for c in sctp._sent_queue
        ],
        "outbound_queue": [c.tsn for c in sctp._outbound_queue],
        "queued_messages": len(sctp._data_channel_queue),
        **{
            name: getattr(sctp, name)
            for name in (
                "_last_sacked_tsn",
                "_flight_size",
                "_cwnd",
                "_ssthresh",
                "_partial_bytes_acked",
                "_fast_recovery_exit",
                "_fast_recovery_transmit",
                "_advanced_peer_ack_tsn",
                "_srtt",
                "_rttvar",
                "_rto",
                "_local_tsn",
            )
        },
        "forward_tsn_streams": dict(sctp._forward_tsn_streams),  # a copy: aiortc changes it in place
        "forward_tsn": None if forward is None else bytes(forward),
        "t3_running": sctp._t3_handle is not None,
        "t3_restarted": bool(s.t3_handles) and sctp._t3_handle is not s.t3_handles[-1],
        "sent": list(s.dtls.sent),
    }


class Clock:
    """time.time() for aiortc and the compiled path alike: sent times and RTT samples that both see."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


Row = tuple[str, dict[str, Any], dict[str, Any], int]


async def run(tuned: bool, script: list[tuple[str, Any]], clock: Clock) -> list[Row]:
    """`script` on a stock-receive and a compiled-receive sender side by side; per step, both states and how
    many SACKs the compiled one left to aiortc."""
    start = clock.now
    reference, compiled = sender(tuned), sender(tuned)
    rows = []
    for what, action in script:
        clock.now += 0.0173
        for s, compiled_side in ((reference, False), (compiled, True)):
            s.t3_handles.append(s.sctp._t3_handle)
            if isinstance(action, bytes):
                if compiled_side:
                    chunks = CompiledReceiver._steady(s.sctp, action)
                    assert chunks is not None, f"{what}: the packet is not the steady state"
                    await CompiledReceiver._handle_steady(s.sctp, chunks)
                else:
                    await s.sctp._handle_data(action)
            else:
                result = action(s.sctp)
                if result is not None:
                    await result
        rows.append((what, state(reference), state(compiled), compiled.by_aiortc))
    assert compiled.flushes < reference.flushes - 5, "the compiled side never skipped an idle flush"
    for s in (reference, compiled):
        s.sctp._t3_cancel()
    clock.now = start
    return rows


def send(count: int) -> Callable[[Any], Awaitable[None]]:
    async def queue(sctp: Any) -> None:
        for _ in range(count):
            await sctp._send(STREAM, 53, MESSAGE)
        if hasattr(sctp, "_cork_depth"):
            await sctp._send_corked()

    return queue


def set_attr(name: str, value: Any) -> Callable[[Any], None]:
    return lambda sctp: setattr(sctp, name, value)


def on_chunk(index: int, name: str, value: Any) -> Callable[[Any], None]:
    return lambda sctp: setattr(sctp._sent_queue[index], name, value)


def abandon(index: int) -> Callable[[Any], None]:
    """What aiortc does to a chunk it gives up on (`_maybe_abandon` and its callers): no longer in flight."""

    def mark(sctp: Any) -> None:
        sctp._sent_queue[index]._abandoned = True
        sctp._flight_size_decrease(sctp._sent_queue[index])

    return mark


def tsn(offset: int) -> int:
    return (FIRST_TSN + offset) % 2**32


#: (what, a packet to receive or a change made alike on both senders).
SCRIPT: list[tuple[str, Any]] = [
    ("cwnd of 6 messages", set_attr("_cwnd", 6 * len(MESSAGE))),
    ("send 6", send(6)),
    ("ack 2 (cwnd fully used: slow start)", sack(tsn(1))),
    ("old SACK", sack(tsn(0))),
    ("same SACK again", sack(tsn(1))),
    ("ack across 2^32", sack(tsn(4))),
    ("ack all: T3 stops", sack(tsn(5))),
    ("send 8", send(8)),
    ("a resent chunk gives no RTT sample", on_chunk(0, "_sent_count", 2)),
    ("an already acked chunk adds no bytes", on_chunk(1, "_acked", True)),
    ("congestion avoidance", set_attr("_ssthresh", 500)),
    ("ack 3", sack(tsn(8))),
    ("a chunk waits for retransmission", on_chunk(1, "_retransmit", True)),
    ("ack 1: _transmit resends it", sack(tsn(9))),
    ("an abandoned chunk after the next", abandon(1)),
    ("ack 1: FORWARD-TSN state", sack(tsn(10))),
    ("cwnd of 12 messages", set_attr("_cwnd", 12 * len(MESSAGE))),
    ("more queued than cwnd allows", send(12)),
    ("partial bytes acked near cwnd", set_attr("_partial_bytes_acked", 1150)),
    ("ack 3: the queue moves on", sack(tsn(13))),
    ("a gap block: aiortc's method", sack(tsn(13), gaps=[(2, 3)])),
    ("duplicates: aiortc's method", sack(tsn(14), duplicates=[tsn(14)])),
    ("fast recovery: aiortc's method", set_attr("_fast_recovery_exit", tsn(20))),
    ("ack 2 in fast recovery", sack(tsn(16))),
    ("fast recovery over", sack(tsn(21))),
    ("ack the rest", sack(tsn(30))),
]
#: The steps whose SACK aiortc's own method handles on the compiled side too.
BY_AIORTC = {
    "a gap block: aiortc's method",
    "duplicates: aiortc's method",
    "ack 2 in fast recovery",
    "fast recovery over",
}


@pytest.mark.parametrize("tuned", [False, True], ids=["stock", "tuned"])
async def test_after_each_sack_the_sender_is_as_aiortc_leaves_it(tuned: bool, clock: Clock) -> None:
    assert native.datapath is not None, native.why_not
    rows = await run(tuned, SCRIPT, clock)
    left_to_aiortc = 0
    for what, expected, got, by_aiortc in rows:
        assert got == expected, f"after {what!r}"
        left_to_aiortc += what in BY_AIORTC
        assert by_aiortc == left_to_aiortc, f"after {what!r}: {by_aiortc} SACKs went to aiortc's method"
    final = rows[-1][1]
    assert final["sent_queue"] == [] and final["_flight_size"] == 0 and not final["t3_running"]
    seen = {what: expected for what, expected, _got, _n in rows}
    # The script reaches what it claims to (else the comparisons above prove less than they say).
    assert seen["ack 2 (cwnd fully used: slow start)"]["_cwnd"] == 8 * len(MESSAGE)
    assert seen["congestion avoidance"]["_partial_bytes_acked"] == 0
    assert seen["ack 3"]["_partial_bytes_acked"] > 0
    assert seen["ack 3"]["t3_restarted"] and seen["ack 3"]["_srtt"] is not None
    assert len(seen["ack 1: _transmit resends it"]["sent"]) > len(seen["a chunk waits for retransmission"]["sent"])
    forward = seen["ack 1: FORWARD-TSN state"]
    assert forward["_advanced_peer_ack_tsn"] == tsn(11) and forward["forward_tsn_streams"] == {STREAM: (11, tsn(11))}
    assert forward["sent"][-1][12] == 192, "no FORWARD-TSN sent past the abandoned chunk"
    assert seen["ack 3: the queue moves on"]["_cwnd"] == 1200 + USERDATA_MAX_LENGTH
    assert seen["ack 3: the queue moves on"]["outbound_queue"] != seen["more queued than cwnd allows"]["outbound_queue"]
    assert not seen["ack all: T3 stops"]["t3_running"]


async def test_sacks_it_does_not_take_change_nothing_first() -> None:
    """None (aiortc decides) for gap blocks, duplicates, fast recovery and short or lying bodies, with the
    sender untouched; a body no longer than its counts never makes the C code read past it."""
    assert native.datapath is not None
    s = sender(False)
    before = state(s)
    whole = bytes(SackChunk())[4:]
    bodies = {
        "gap": sack(tsn(3), gaps=[(2, 2)])[16:],
        "duplicate": sack(tsn(3), duplicates=[5])[16:],
        "too short": whole[:11],
        "empty": b"",
        "claims gaps it lacks": whole[:8] + b"\x00\x05\x00\x00",
    }
    for what, body in bodies.items():
        assert native.datapath.sack_steady(s.sctp, body, 0.0, USERDATA_MAX_LENGTH) is None, what
    s.sctp._fast_recovery_exit = tsn(3)
    assert native.datapath.sack_steady(s.sctp, sack(tsn(3))[16:], 0.0, USERDATA_MAX_LENGTH) is None
    s.sctp._fast_recovery_exit = None
    assert state(s) == before


async def test_a_sender_whose_state_is_not_aiortcs_raises_rather_than_guessing() -> None:
    assert native.datapath is not None
    s = sender(False)
    s.sctp._last_sacked_tsn = 2**40
    with pytest.raises(ValueError, match="out of range"):
        native.datapath.sack_steady(s.sctp, sack(1)[16:], 0.0, USERDATA_MAX_LENGTH)
    del s.sctp._cwnd
    s.sctp._last_sacked_tsn = 0
    with pytest.raises(AttributeError):
        native.datapath.sack_steady(s.sctp, sack(1)[16:], 0.0, USERDATA_MAX_LENGTH)


async def outcome(s: Sender, body: bytes, compiled: bool) -> tuple[str, dict[str, Any]]:
    """One SACK body through aiortc's method or the compiled path: what it raised, and the sender after."""
    try:
        if compiled:
            await receive_sack(s.sctp, 0, body)
        else:
            await s.sctp._receive_sack_chunk(SackChunk(0, body))
    except struct.error as error:
        return f"struct.error: {error}", state(s)
    return "", state(s)


async def test_random_sacks_on_random_senders_leave_them_as_aiortc_does(clock: Clock) -> None:
    """Random histories (queue length, cwnd, resent, acked and to-be-resent chunks, fast recovery) and random
    SACKs (old, new, across 2^32, beyond the queue, with gaps or duplicates, truncated, random bytes)."""
    rng = random.Random(23)
    taken = 0
    for round_ in range(300):
        pair = [sender(tuned=round_ % 2 == 1) for _ in range(2)]
        count, cwnd = rng.randrange(0, 10), rng.choice([300, 600, 3480])
        tweaks = [(rng.randrange(10), rng.choice(["_sent_count", "_acked", "_retransmit"])) for _ in range(2)]
        recovery = rng.random() < 0.1
        for s in pair:
            s.sctp._cwnd = cwnd
            await send(count)(s.sctp)
            for index, name in tweaks:
                if index < len(s.sctp._sent_queue):
                    setattr(s.sctp._sent_queue[index], name, 2 if name == "_sent_count" else True)
            s.sctp._fast_recovery_exit = tsn(count) if recovery else None
        clock.now += rng.random()
        gaps = [(2, 3)] if rng.random() < 0.1 else []
        duplicates = [tsn(1)] if rng.random() < 0.1 else []
        body = sack(tsn(rng.randrange(-3, count + 3)), gaps, duplicates)[16:]
        if rng.random() < 0.2:
            body = body[: rng.randrange(len(body))]
        elif rng.random() < 0.1:
            body = rng.randbytes(rng.randrange(24))
        expected = await outcome(pair[0], body, compiled=False)
        got = await outcome(pair[1], body, compiled=True)
        assert got == expected, f"round {round_}: {body.hex()}"
        taken += pair[1].by_aiortc == 0
        for s in pair:
            s.sctp._t3_cancel()
    assert taken > 150, f"only {taken} of 300 SACKs took the compiled path"


async def test_a_live_sender_under_loss_duplication_and_reordering_drains_as_the_stock_one() -> None:
    """Compiled and tuned (its packets built in C) against stock aiortc: clean, then with loss, duplication
    and reordering both ways; both SACK paths run (C for the steady state, aiortc's for gap reports and fast
    recovery), nothing is lost or repeated, and at the end both senders are drained: every chunk
    acknowledged, T3 stopped."""
    a, b = await connect_pair(True, False, fast_offerer=True, fast_kind="compiled")
    taken = a.sctp.transport._peerperf_fast  # type: ignore[attr-defined]
    assert isinstance(taken, CompiledReceiver)
    assert type(a.sctp) is CompiledSctpTransport, "the tuned sender is not the compiled one"
    by_aiortc = 0
    receive = a.sctp._receive_sack_chunk

    async def counted(chunk: SackChunk) -> None:
        nonlocal by_aiortc
        by_aiortc += 1
        await receive(chunk)

    a.sctp._receive_sack_chunk = counted  # type: ignore[method-assign]
    impairments = [Impairment(ROUGH), Impairment(ROUGH)]
    try:
        await exchange(a, b, 300)
        assert taken.sacks > 10, f"only {taken.sacks} SACKs took the compiled path on a clean link"
        for side, impairment in zip((a, b), impairments, strict=True):
            assert impairment.attach(side.pc) > 0
        a.received.clear()
        b.received.clear()
        await exchange(a, b, 600)
        assert by_aiortc > 0, "no SACK under loss went to aiortc's method: the test proves less than it says"

        def drained(sctp: Any) -> bool:
            return not sctp._sent_queue and not sctp._outbound_queue and sctp._t3_handle is None

        await poll(lambda: drained(a.sctp) and drained(b.sctp), "both senders have every chunk acknowledged")
        for sctp in (a.sctp, b.sctp):
            assert sctp._flight_size == 0 and sctp._last_sacked_tsn == (sctp._local_tsn - 1) % 2**32
            assert sctp._fast_recovery_exit is None and not sctp._forward_tsn_streams
    finally:
        await close_pair(a, b)
