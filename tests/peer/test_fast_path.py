"""The fast receive paths (python-fast, and compiled on top of it): pinned to the internals they bypass,
the same wire as stock aiortc in both directions (clean, and under loss, duplication and reordering), and
unharmed by hostile datagrams. The compiled path's own pieces: tests/peer/test_compiled_path.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from peerperf.errors import ConfigError
from peerperf.peer import data_path, fast_path
from peerperf.peer.compiled_path import CompiledReceiver
from peerperf.peer.fast_path import FastReceiver, FastStunProtocol, application_data_only, drifted_internals
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.impairment import Impairment
from peerperf.peer.impairment_profile import PeerImpairment, parse_profile
from peerperf.peer.settings import PeerSettings
from peerperf.peer.webrtc_connection import PeerConnection
from tests.peer.aiortc_pairs import Side, close_pair, connect_pair, exchange, poll

#: Both directions against stock aiortc, with the fast side's SCTP tuned in one and stock in the other.
#: The receive paths under test: both always (a missing C build fails the compiled cases, naming why).
KINDS = ["python-fast", "compiled"]
PAIRS = [
    pytest.param(dict(tune_offerer=True, tune_answerer=False, fast_offerer=True), id="fast+tuned-stock"),
    pytest.param(dict(tune_offerer=False, tune_answerer=False, fast_answerer=True), id="stock-fast"),
]
#: Loss, duplication and reordering both ways, beneath DTLS (peerperf's impairment layer).
ROUGH = PeerImpairment(parse_profile("loss=3%,dup=3%,delay=4ms,jitter=3ms,reorder,dir=both"), "fast-path")


def receiver(side: Side) -> FastReceiver | None:
    return getattr(side.sctp.transport, "_peerperf_fast", None)


def test_the_internals_are_the_ones_the_fast_path_was_written_against() -> None:
    drift = drifted_internals()
    assert not drift, (
        f"aiortc/aioice/pyOpenSSL internals changed: {drift}. Re-read peerperf/peer/fast_path.py against the new "
        "code, rerun these tests, then update PINNED_AIORTC / RELIED_ON."
    )


def test_a_drifted_internal_is_named_and_switches_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "aiortc.rtcsctptransport:RTCSctpTransport._handle_data"
    monkeypatch.setitem(fast_path.RELIED_ON, name, "0000000000000000")
    monkeypatch.setitem(fast_path.RELIED_ON, "aioice.ice:Connection.gone", "0000000000000000")
    assert drifted_internals() == [name, "aioice.ice:Connection.gone (missing)"]
    monkeypatch.setattr(fast_path, "_DRIFT", drifted_internals())
    assert not fast_path.available()
    assert data_path.in_effect("python-fast") == "stock"
    assert data_path.in_effect("compiled") == "stock"


async def test_on_drift_install_leaves_the_connection_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_path, "_DRIFT", ["aiortc 9.9.9 (pinned 1.16.0)"])
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        pc.createDataChannel("x")
        assert pc.sctp is not None
        assert fast_path.install(pc.sctp) is False
        assert not hasattr(pc.sctp.transport, "_peerperf_fast")
    finally:
        await pc.close()


def test_the_data_path_setting_is_checked() -> None:
    assert PeerSettings().data_path == "stock"  # the faster paths are opt-in (docs/usage/data-paths.md)
    with pytest.raises(ConfigError, match="data_path must be one of stock, python-fast, compiled"):
        PeerSettings(data_path="native")


def test_only_whole_application_data_records_are_taken() -> None:
    record = bytes([23, 0xFE, 0xFD]) + bytes(8) + (5).to_bytes(2, "big") + b"hello"
    assert application_data_only(record) and application_data_only(record + record)
    assert not application_data_only(b"")
    assert not application_data_only(record[:-1]), "truncated body"
    assert not application_data_only(record[:10]), "truncated header"
    assert not application_data_only(record + b"\x17"), "trailing byte"
    assert not application_data_only(bytes([22]) + record[1:]), "handshake record"
    assert not application_data_only(record + bytes([21]) + record[1:]), "alert after data"
    assert not application_data_only(record[:11] + b"\xff\xff" + b"hello"), "length beyond the datagram"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sides", PAIRS)
async def test_thousands_of_messages_each_way_arrive_once_and_in_order(sides: dict[str, Any], kind: str) -> None:
    a, b = await connect_pair(**sides, fast_kind=kind)
    try:
        await exchange(a, b, 2000)
        fast, stock = (a, b) if sides.get("fast_offerer") else (b, a)
        taken = receiver(fast)
        assert taken is not None and receiver(stock) is None
        assert taken.fast >= 1000, f"only {taken.fast} datagrams took the fast path in"
        assert taken.sent >= 1000, f"only {taken.sent} datagrams took the fast path out"
        if kind == "compiled":
            assert isinstance(taken, CompiledReceiver) and taken.compiled >= 1000, "the compiled path never ran"
    finally:
        await close_pair(a, b)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sides", PAIRS)
async def test_loss_duplication_and_reordering_beneath_dtls_lose_and_repeat_nothing(
    sides: dict[str, Any], kind: str
) -> None:
    a, b = await connect_pair(**sides, fast_kind=kind)
    impairments = [Impairment(ROUGH), Impairment(ROUGH)]
    try:
        for side, impairment in zip((a, b), impairments, strict=True):
            assert impairment.attach(side.pc) > 0
        await exchange(a, b, 1000)
        counters = [i.counters for i in impairments]
        assert all(c.dropped > 0 and c.duplicated > 0 for c in counters), f"the impairment did too little: {counters}"
        fast = a if sides.get("fast_offerer") else b
        taken = receiver(fast)
        assert taken is not None and taken.fast > 300
        # compiled: with a gap outstanding most of the time, nearly every packet goes to aiortc's own
        # `_handle_data`; what this proves is that the two interleave without losing or repeating anything.
        assert isinstance(taken, CompiledReceiver) is (kind == "compiled")
    finally:
        await close_pair(a, b)


async def test_an_sctp_call_that_suspends_finishes_in_a_task_and_later_packets_wait_their_turn() -> None:
    a, b = await connect_pair(True, False, fast_offerer=True)
    handle = a.sctp._handle_data
    calls = 0

    async def sometimes_suspending(data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls % 7 == 0:
            await asyncio.sleep(0.002)
        await handle(data)

    a.sctp._handle_data = sometimes_suspending  # type: ignore[method-assign]
    try:
        await exchange(a, b, 1500)
        taken = receiver(a)
        assert taken is not None and taken.suspended >= 1, "no SCTP call suspended: the test proves nothing"
        assert calls > 100, "packets behind a suspended call went on through aiortc's handler"
    finally:
        await close_pair(a, b)


async def test_an_sctp_call_that_fails_after_suspending_closes_the_link_rather_than_silencing_it() -> None:
    """The hand-off's failure path: the Task that finishes a suspended call ends the DTLS transport as
    aiortc's receive loop would, so the channel closes; the packets parked behind it are never left
    waiting on an open link."""
    a, b = await connect_pair(True, False, fast_offerer=True)
    handle = a.sctp._handle_data
    calls = 0

    async def fails_once_suspended(data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            await asyncio.sleep(0.01)
            raise RuntimeError("an SCTP handler bug")
        await handle(data)

    a.sctp._handle_data = fails_once_suspended  # type: ignore[method-assign]
    try:
        for i in range(40):
            b.channel.send(f"b{i}".encode())
            await asyncio.sleep(0.001)
        await poll(lambda: a.sctp.transport.state == "closed", "the fast side's DTLS transport closes", timeout=10)
        await poll(lambda: a.channel.readyState == "closed", "its channel closes", timeout=10)
        taken = receiver(a)
        assert taken is not None and taken.suspended == 1 and taken._backlog is None
    finally:
        await close_pair(a, b)


def hostile_datagrams() -> dict[str, bytes]:
    header = bytes([23, 0xFE, 0xFD, 0, 1]) + bytes(6)
    return {
        "one DTLS byte": b"\x17",
        "truncated header": header[:7],
        "huge length": header + b"\xff\xff" + bytes(40),
        "bad record (garbage ciphertext)": header + (64).to_bytes(2, "big") + bytes(range(64)),
        "replayed epoch 0 handshake": bytes([22, 0xFE, 0xFD]) + bytes(8) + (3).to_bytes(2, "big") + b"\x01\x02\x03",
        "alert garbage": bytes([21, 0xFE, 0xFD, 0, 1]) + bytes(6) + (2).to_bytes(2, "big") + b"\x02\x28",
        "first byte 64 (not DTLS)": b"\x40" + bytes(30),
        "first byte 63": b"\x3f" + bytes(30),
        "SRTP range without SRTP": b"\x80" + bytes(30),
    }


@pytest.mark.parametrize("kind", ["stock", *KINDS])
async def test_hostile_datagrams_are_dropped_and_the_channel_keeps_working(kind: str) -> None:
    """The same datagrams hurt no path; the fast ones also drop an empty datagram, which stock aiortc
    would index (`data[0]`) and lose its DTLS transport over."""
    fast = kind != "stock"
    a, b = await connect_pair(True, False, fast_offerer=fast, fast_kind=kind)
    try:
        await exchange(a, b, 50)
        protocols = a.sctp.transport.transport._connection._protocols
        assert all(isinstance(p, FastStunProtocol) for p in protocols) is fast
        datagrams = dict(hostile_datagrams(), **({"empty": b""} if fast else {}))
        for protocol in protocols:
            for datagram in datagrams.values():
                protocol.datagram_received(datagram, ("127.0.0.1", 9))
        await asyncio.sleep(0)  # let aiortc's receive loop take whatever was queued for it
        a.received.clear()
        b.received.clear()
        await exchange(a, b, 300)
        assert a.sctp.transport.state == "connected"
        taken = receiver(a)
        if fast:
            assert taken is not None and taken.handed_on >= 3, "handshake, alert and truncated records go to aiortc"
    finally:
        await close_pair(a, b)


async def test_a_close_from_the_stock_side_closes_the_fast_side() -> None:
    a, b = await connect_pair(True, False, fast_offerer=True)
    try:
        await exchange(a, b, 20)
        await b.pc.close()  # sends close_notify: an alert record, which takes aiortc's path
        await poll(lambda: a.sctp.transport.state == "closed", "the fast side's DTLS transport closes", timeout=10)
        taken = receiver(a)
        assert taken is not None and taken.handed_on >= 1
    finally:
        await close_pair(a, b)


@pytest.mark.parametrize("data_path", ["compiled", "python-fast", "stock"])
async def test_the_peer_library_follows_the_setting(data_path: str) -> None:
    use_host_addresses(("127.0.0.1",))
    configuration = rtc_configuration(PeerSettings(data_path=data_path))
    got: list[bytes] = []
    made: list[Any] = []
    try:
        for initiator in (True, False):
            made.append(
                PeerConnection("p", "s", initiator, configuration, lambda _s, d: got.append(d), lambda _c: None)
            )
        offerer, answerer = made
        await offerer.accept_answer(await answerer.answer(await offerer.offer()))
        await asyncio.wait_for(asyncio.gather(offerer.opened.wait(), answerer.opened.wait()), 20)
        kinds = {"compiled": CompiledReceiver, "python-fast": FastReceiver, "stock": type(None)}
        for connection in made:
            assert type(getattr(connection.pc.sctp.transport, "_peerperf_fast", None)) is kinds[data_path]
        assert offerer.send(b"to answerer") and answerer.send(b"to offerer")
        await poll(lambda: len(got) == 2, "a message each way")
        assert sorted(got) == [b"to answerer", b"to offerer"]
    finally:
        for connection in made:
            await connection.close()
