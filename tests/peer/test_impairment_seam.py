"""The seam the impairment layer uses in aioice, pinned: if aioice changes, these fail loudly.

Every datagram of a connection (ICE checks, DTLS, SCTP) must pass the wrapper, unchanged, and an
impaired peerperf connection must still talk to a stock aiortc one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aioice.ice
import pytest
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from peerperf.peer import PeerSettings
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.impairment import (
    DatagramCounters,
    DelayLine,
    ImpairedTransport,
    Impairment,
    ImpairmentSeamError,
    stun_protocols,
)
from peerperf.peer.impairment_profile import ImpairmentProfile, LinkSpec, PeerImpairment, parse_profile
from peerperf.peer.webrtc_connection import PeerConnection
from peerperf.protocol.signaling_frames import SessionDescription
from tests.peer.conftest import eventually

#: Counts every datagram both ways and changes nothing.
COUNT_ONLY = PeerImpairment(ImpairmentProfile("count-only", LinkSpec(), LinkSpec()), "seam")


@pytest.fixture
async def closing() -> AsyncIterator[list[Any]]:
    """Connections to close at teardown."""
    made: list[Any] = []
    yield made
    for connection in made:
        await connection.close()


def connection(closing: list[Any], initiator: bool, received: list[bytes]) -> PeerConnection:
    use_host_addresses(("127.0.0.1",))
    made = PeerConnection(
        "other",
        "session",
        initiator,
        rtc_configuration(PeerSettings()),
        lambda _, d: received.append(d),
        lambda _: None,
    )
    closing.append(made)
    return made


async def connect(offerer: PeerConnection, answerer: PeerConnection, impair: dict[int, Impairment]) -> None:
    """Offer/answer in process, attaching impairments where Peer does: right after each local description."""
    offer = await offerer.offer()
    if id(offerer) in impair:
        impair[id(offerer)].attach(offerer.pc)
    answer = await answerer.answer(offer)
    if id(answerer) in impair:
        impair[id(answerer)].attach(answerer.pc)
    await offerer.accept_answer(answer)


async def test_every_datagram_of_a_connection_passes_the_wrapper(closing: list[Any]) -> None:
    got_a: list[bytes] = []
    got_b: list[bytes] = []
    a, b = connection(closing, True, got_a), connection(closing, False, got_b)
    with pytest.raises(ImpairmentSeamError, match="no socket gathered"):
        stun_protocols(a.pc)  # the data channel transport exists, its sockets do not yet
    ia, ib = Impairment(COUNT_ONLY), Impairment(COUNT_ONLY)
    await connect(a, b, {id(a): ia, id(b): ib})
    protocols = stun_protocols(a.pc)
    assert protocols and all(isinstance(p, aioice.ice.StunProtocol) for p in protocols)
    assert all(isinstance(p.transport, ImpairedTransport) for p in protocols)
    assert ia.attach(a.pc) == 0, "attaching twice wraps nothing twice"
    await asyncio.wait_for(asyncio.gather(a.opened.wait(), b.opened.wait()), 10)
    for i in range(20):
        a.send(b"ping %d" % i)
        b.send(b"pong %d" % i)
    await eventually(lambda: len(got_a) == 20 and len(got_b) == 20, "messages both ways")
    assert got_b == [b"ping %d" % i for i in range(20)] and got_a == [b"pong %d" % i for i in range(20)]
    # Loopback loses nothing: what one side's wrapper sent, the other's received, once it settles.
    await eventually(
        lambda: ia.counters.sent == ib.counters.received and ib.counters.sent == ia.counters.received,
        "both wrappers saw every datagram",
    )
    # ICE checks, the DTLS handshake, SCTP set-up and data (the tuned transport bundles the 20 messages).
    assert ia.counters.sent > 8 and ib.counters.sent > 8


async def test_nothing_gets_past_a_link_that_drops_everything(closing: list[Any]) -> None:
    a, b = connection(closing, True, []), connection(closing, False, [])
    blackhole = Impairment(PeerImpairment(parse_profile("loss=100%"), "seam"))
    await connect(a, b, {id(a): blackhole})
    await eventually(lambda: blackhole.counters.sent >= 5, "the offerer tries its ICE checks")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(b.opened.wait(), 3)
    assert blackhole.counters.dropped == blackhole.counters.sent
    assert b.pc.iceConnectionState != "completed"


async def test_the_wrapper_passes_the_very_bytes_it_was_given() -> None:
    sent: list[tuple[Any, Any]] = []

    class Socket:
        def sendto(self, data: Any, addr: Any = None) -> None:
            sent.append((data, addr))

    counters = DatagramCounters()
    line: DelayLine[tuple[Any, Any]] = DelayLine(None, counters, lambda d: Socket().sendto(*d))
    transport = ImpairedTransport(Socket(), line, line, counters)
    payload = bytearray(b"\x17\xfe\xfd" + bytes(range(256)))
    transport.sendto(payload, ("127.0.0.1", 9))
    assert sent == [(payload, ("127.0.0.1", 9))] and sent[0][0] is payload and counters.sent == 1


@pytest.mark.parametrize("impaired_offers", [True, False])
async def test_an_impaired_connection_talks_to_a_stock_aiortc_peer(closing: list[Any], impaired_offers: bool) -> None:
    got: list[bytes] = []
    ours = connection(closing, impaired_offers, got)
    impairment = Impairment(PeerImpairment(parse_profile("loss=5%,delay=20ms,jitter=5ms,dup=5%,dir=both"), "interop"))
    stock = RTCPeerConnection()  # aiortc as anyone would use it (loopback candidates come from use_host_addresses)
    closing.append(stock)
    stock_got: list[bytes] = []
    stock_open = asyncio.Event()

    def adopt(channel: RTCDataChannel) -> None:
        channel.on("message", lambda m: stock_got.append(m if isinstance(m, bytes) else m.encode()))
        channel.on("open", stock_open.set)
        if channel.readyState == "open":
            stock_open.set()
        channels.append(channel)

    channels: list[RTCDataChannel] = []
    if impaired_offers:
        stock.on("datachannel", adopt)
        offer = await ours.offer()
        impairment.attach(ours.pc)
        await stock.setRemoteDescription(RTCSessionDescription(offer.sdp, offer.type))
        await stock.setLocalDescription(await stock.createAnswer())
        await ours.accept_answer(_description(stock))
    else:
        adopt(stock.createDataChannel("stock", ordered=True))
        await stock.setLocalDescription(await stock.createOffer())
        answer = await ours.answer(_description(stock))
        impairment.attach(ours.pc)
        await stock.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
    await asyncio.wait_for(asyncio.gather(ours.opened.wait(), stock_open.wait()), 20)
    for i in range(50):
        ours.send(b"ours %d" % i)
        channels[0].send(b"stock %d" % i)
    await eventually(lambda: len(got) == 50 and len(stock_got) == 50, "50 messages each way", 30)
    assert got == [b"stock %d" % i for i in range(50)] and stock_got == [b"ours %d" % i for i in range(50)]
    assert impairment.counters.delayed > 0 and impairment.counters.sent > 30


def _description(pc: RTCPeerConnection) -> SessionDescription:
    return SessionDescription(pc.localDescription.type, pc.localDescription.sdp)
