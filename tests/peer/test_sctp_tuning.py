"""The tuned SCTP transport: pinned to aiortc's internals, interoperable with stock aiortc (also under
loss below SCTP), and doing what it is for: fewer packets, delayed and bundled SACKs."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.rtcsctptransport import (
    SCTP_MAX_PACKET_LENGTH,
    DataChunk,
    InitChunk,
    RTCSctpTransport,
    SackChunk,
    parse_packet,
    serialize_packet,
)
from OpenSSL.SSL import Error as SslError

from peerperf.peer import sctp_tuning
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.sctp_tuning import TunedSctpTransport, drifted_internals, tune
from peerperf.peer.settings import PeerSettings
from peerperf.peer.webrtc_connection import PeerConnection
from tests.peer.aiortc_pairs import close_pair, connect_pair, exchange, poll

PAIRS = [(True, False), (False, True), (True, True)]


def test_aiortc_internals_are_the_ones_the_tuning_was_written_against() -> None:
    drift = drifted_internals()
    assert not drift, (
        f"aiortc internals changed: {drift}. Re-read peerperf/peer/sctp_tuning.py against the new code, "
        "rerun these tests, then update PINNED_AIORTC / RELIED_ON."
    )


async def test_an_unpinned_aiortc_is_left_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sctp_tuning, "_SUPPORTED", False)
    a, b = await connect_pair(False, False)
    try:
        assert tune(a.sctp) is False
        assert type(a.sctp) is RTCSctpTransport
    finally:
        await close_pair(a, b)


@pytest.mark.parametrize(("tune_offerer", "tune_answerer"), PAIRS, ids=["tuned-stock", "stock-tuned", "tuned-tuned"])
async def test_thousands_of_messages_each_way_arrive_in_order(tune_offerer: bool, tune_answerer: bool) -> None:
    a, b = await connect_pair(tune_offerer, tune_answerer)
    try:
        assert isinstance(a.sctp, TunedSctpTransport) is tune_offerer
        assert isinstance(b.sctp, TunedSctpTransport) is tune_answerer
        await exchange(a, b, 3000)
    finally:
        await close_pair(a, b)


@pytest.mark.parametrize(("tune_offerer", "tune_answerer"), PAIRS, ids=["tuned-stock", "stock-tuned", "tuned-tuned"])
async def test_no_loss_and_no_stall_when_packets_are_dropped_below_sctp(
    tune_offerer: bool, tune_answerer: bool
) -> None:
    a, b = await connect_pair(tune_offerer, tune_answerer)
    try:
        a.wire.loss = b.wire.loss = 0.05
        await exchange(a, b, 2000)
        assert a.wire.dropped > 0 and b.wire.dropped > 0, "the impairment dropped nothing: the test proves nothing"
    finally:
        await close_pair(a, b)


@pytest.mark.parametrize(("tune_offerer", "tune_answerer"), PAIRS, ids=["tuned-stock", "stock-tuned", "tuned-tuned"])
async def test_an_unreliable_channel_skips_lost_messages_with_forward_tsn_and_keeps_flowing(
    tune_offerer: bool, tune_answerer: bool
) -> None:
    a, b = await connect_pair(tune_offerer, tune_answerer, ordered=False, maxRetransmits=0)
    try:
        a.wire.loss = b.wire.loss = 0.05
        for i in range(1000):
            a.channel.send(f"lossy{i}".encode())
            b.channel.send(f"lossy{i}".encode())
            if i % 10 == 9:
                await asyncio.sleep(0.002)  # paced: a saturated unreliable channel collapses in stock aiortc too
        await poll(lambda: a.wire.dropped > 0 and b.wire.dropped > 0, "the impairment drops something")
        a.wire.loss = b.wire.loss = 0.0
        await poll(lambda: a.wire.forward_tsns() > 0 and b.wire.forward_tsns() > 0, "both senders skip lost messages")
        await poll(
            lambda: not a.sctp._sack_misordered and not b.sctp._sack_misordered,
            "FORWARD TSN closes every gap once the losses stop",
        )
        for side in (a, b):
            side.channel.send(b"after")
        await poll(lambda: b"after" in a.received and b"after" in b.received, "traffic flows after the losses")
        for side in (a, b):
            assert len(set(side.received)) == len(side.received), "a message was delivered twice"
            assert len(side.received) > 500, f"only {len(side.received)} of 1000 arrived with 5 % loss"
    finally:
        await close_pair(a, b)


async def test_tuned_peers_send_fewer_packets_each_fitting_the_mtu_with_the_sack_first() -> None:
    stock_a, stock_b = await connect_pair(False, False)
    tuned_a, tuned_b = await connect_pair(True, True)
    try:
        await exchange(stock_a, stock_b, 1000)
        await exchange(tuned_a, tuned_b, 1000)
    finally:
        await close_pair(stock_a, stock_b)
        await close_pair(tuned_a, tuned_b)
    stock = len(stock_a.wire.sent) + len(stock_b.wire.sent)
    tuned = len(tuned_a.wire.sent) + len(tuned_b.wire.sent)
    assert stock >= 2 * 2000, "stock aiortc sends one DATA packet and one SACK per message"
    assert tuned < stock / 4, f"tuned sent {tuned} packets for 2000 messages, stock {stock}"
    for packet in tuned_a.wire.sent + tuned_b.wire.sent:
        assert len(packet) <= SCTP_MAX_PACKET_LENGTH
        kinds = [type(chunk) for chunk in parse_packet(packet)[3]]
        assert kinds.count(SackChunk) <= 1
        if SackChunk in kinds:
            assert kinds.index(SackChunk) == 0, f"a SACK bundled after DATA: {kinds}"


async def test_a_lone_packet_is_acknowledged_after_the_delay_and_a_second_at_once() -> None:
    a, b = await connect_pair(False, True, sack_delay=0.5)
    try:
        a.channel.send(b"first")
        await poll(lambda: len(b.received) == 1, "the first message arrives")
        await poll(lambda: b.wire.sacks() == 1, "the delayed SACK leaves", timeout=20)
        acknowledged = len(b.wire.sent)
        a.channel.send(b"second")
        await poll(lambda: len(b.received) == 2, "the second message arrives")
        assert b.wire.sacks() == 1, "one packet alone is not acknowledged at once"
        a.channel.send(b"third")
        await poll(lambda: len(b.received) == 3, "the third message arrives")
        assert b.wire.sacks() == 2, "every second DATA packet is acknowledged at once"
        assert len(b.wire.sent) == acknowledged + 1
    finally:
        await close_pair(a, b)


async def test_a_duplicate_is_acknowledged_at_once() -> None:
    a, b = await connect_pair(False, True, sack_delay=30.0)
    try:
        a.channel.send(b"once")
        await poll(lambda: len(b.received) == 1, "the message arrives")
        assert b.wire.sacks() == 0, "one DATA packet waits for the delayed SACK"
        replay = next(p for p in a.wire.sent if any(isinstance(c, DataChunk) for c in parse_packet(p)[3]))
        await b.sctp._handle_data(replay)
        await poll(lambda: b.wire.sacks() == 1, "the duplicate is acknowledged")
        (sack,) = parse_packet(b.wire.sent[-1])[3]
        assert isinstance(sack, SackChunk) and len(sack.duplicates) == 1
        assert b.received == [b"once"]
    finally:
        await close_pair(a, b)


async def test_a_gap_is_acknowledged_at_once_and_then_filled() -> None:
    a, b = await connect_pair(False, True, sack_delay=30.0)
    try:
        a.wire.loss = 1.0
        a.channel.send(b"lost once")
        await poll(lambda: a.wire.dropped == 1, "the first DATA packet is dropped")
        a.wire.loss = 0.0
        a.channel.send(b"after the gap")
        await poll(lambda: b.wire.sacks() == 1, "the gap is reported")
        (sack,) = parse_packet(b.wire.sent[0])[3]
        assert isinstance(sack, SackChunk) and sack.gaps == [(2, 2)]
        await poll(lambda: len(b.received) == 2, "the retransmission fills the gap", timeout=30)
        assert b.received == [b"lost once", b"after the gap"]
    finally:
        await close_pair(a, b)


async def test_a_pending_sack_rides_in_the_next_data_packet() -> None:
    a, b = await connect_pair(False, True, sack_delay=30.0)
    try:
        a.channel.send(b"ping")
        await poll(lambda: len(b.received) == 1, "the ping arrives")
        b.channel.send(b"pong")
        await poll(lambda: len(a.received) == 1, "the pong arrives")
        (packet,) = b.wire.sent
        kinds = [type(chunk) for chunk in parse_packet(packet)[3]]
        assert kinds == [SackChunk, DataChunk]
        await poll(lambda: not a.sctp._sent_queue, "the ping is acknowledged by the bundled SACK", timeout=5)
    finally:
        await close_pair(a, b)


async def test_one_flush_per_loop_turn() -> None:
    a, b = await connect_pair(True, False)
    try:
        flushes = 0
        flush = a.sctp._data_channel_flush

        async def counting() -> None:
            nonlocal flushes
            flushes += 1
            await flush()

        a.sctp._data_channel_flush = counting  # type: ignore[method-assign]
        for i in range(40):
            a.channel.send(f"m{i}")
        await poll(lambda: len(b.received) == 40, "40 messages arrive")
        assert flushes <= 3, f"{flushes} flushes for 40 sends in one turn"
        await asyncio.sleep(0)
    finally:
        await close_pair(a, b)


@pytest.mark.parametrize("tuning", [True, False], ids=["tuned", "stock"])
async def test_the_peer_library_follows_the_setting_on_both_ends(tuning: bool) -> None:
    use_host_addresses(("127.0.0.1",))
    configuration = rtc_configuration(PeerSettings(sctp_tuning=tuning))
    got: list[bytes] = []
    offerer = PeerConnection("b", "s", True, configuration, lambda _src, data: got.append(data), lambda _c: None)
    answerer = PeerConnection("a", "s", False, configuration, lambda _src, data: got.append(data), lambda _c: None)
    try:
        await offerer.accept_answer(await answerer.answer(await offerer.offer()))
        await asyncio.wait_for(asyncio.gather(offerer.opened.wait(), answerer.opened.wait()), 20)
        assert isinstance(offerer.pc.sctp, TunedSctpTransport) is tuning
        assert isinstance(answerer.pc.sctp, TunedSctpTransport) is tuning
        assert offerer.send(b"to answerer") and answerer.send(b"to offerer")
        await poll(lambda: len(got) == 2, "a message each way")
        assert sorted(got) == [b"to answerer", b"to offerer"]
    finally:
        await offerer.close()
        await answerer.close()


def test_a_send_that_meets_a_closing_dtls_transport_is_expected_and_anything_else_is_not() -> None:
    """A delayed SACK firing as a connection ends meets OpenSSL's "protocol is shutdown" (then aiortc's
    ConnectionError): logged quietly, while any other failure of a background send is an error."""
    assert sctp_tuning.closed_under_send(SslError([("SSL routines", "", "protocol is shutdown")]))
    assert sctp_tuning.closed_under_send(ConnectionError("Cannot send encrypted data, not connected"))
    assert not sctp_tuning.closed_under_send(SslError([("SSL routines", "", "bad record mac")]))
    assert not sctp_tuning.closed_under_send(ValueError("a bug"))
    assert not sctp_tuning.closed_under_send(None)


def stale_init(sender: RTCSctpTransport, receiver: RTCSctpTransport) -> bytes:
    """A copy of `sender`'s INIT arriving after the association is up (a T1 retransmission overtaken
    under load): its tag, an initial TSN older than anything received since, verification tag 0."""
    init = InitChunk()
    init.initiate_tag = sender._local_verification_tag
    init.advertised_rwnd, init.outbound_streams, init.inbound_streams = 131072, 65535, 65535
    assert receiver._last_received_tsn is not None and sender._remote_port is not None, "not up yet"
    init.initial_tsn = (receiver._last_received_tsn - 1000) % 2**32
    return serialize_packet(sender._local_port, sender._remote_port, 0, init)


@pytest.mark.parametrize("kind", ["stock", "python-fast", "compiled"])
async def test_a_stale_init_after_the_association_is_up_silences_no_direction(kind: str) -> None:
    """aiortc takes any INIT as the start of the association and rewinds the receiver's cumulative TSN
    to the INIT's: from then on the sender ignores every SACK as old and the receiver drops every DATA
    chunk as a duplicate or holds it behind a gap, so one direction of an open link is silent for good."""
    fast = kind != "stock"
    a, b = await connect_pair(True, True, fast_offerer=fast, fast_answerer=fast, fast_kind=kind)
    try:
        await exchange(a, b, 30)
        client, server = (a, b) if not a.sctp.is_server else (b, a)
        before = server.sctp._last_received_tsn
        await client.sctp.transport._send_data(stale_init(client.sctp, server.sctp))

        def arrived() -> bool:  # dropped (counted) or taken (the rewind): either way it was handled
            return getattr(server.sctp, "stale_inits", 0) == 1 or server.sctp._last_received_tsn != before

        await poll(arrived, "the stale INIT arrives", timeout=10)
        assert server.sctp._last_received_tsn == before, "the receiver rewound its cumulative TSN"
        for side in (a, b):
            side.received.clear()
        await exchange(a, b, 200)
    finally:
        await close_pair(a, b)
