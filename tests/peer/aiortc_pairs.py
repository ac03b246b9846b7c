"""Two bare aiortc peers joined by one data channel on loopback, each side stock or tuned (SCTP) and
stock or fast (receive path: python-fast or compiled), with the datagrams below SCTP observable and
droppable (a test-only impairment: netem is not available here)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection
from aiortc.rtcsctptransport import ForwardTsnChunk, RTCSctpTransport, SackChunk, parse_packet

from peerperf.peer import compiled_path, fast_path
from peerperf.peer.ice import use_host_addresses
from peerperf.peer.sctp_tuning import tune


@dataclass
class Wire:
    """The SCTP packets one side handed to DTLS: counted by kind, optionally dropped at random."""

    sent: list[bytes] = field(default_factory=list)
    dropped: int = 0
    loss: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    _kinds: list[list[type]] = field(default_factory=list)

    def kinds(self) -> list[list[type]]:
        """The chunk types of every packet sent so far (parsed once each)."""
        self._kinds += [[type(c) for c in parse_packet(p)[3]] for p in self.sent[len(self._kinds) :]]
        return self._kinds

    def forward_tsns(self) -> int:
        return sum(kinds.count(ForwardTsnChunk) for kinds in self.kinds())

    def sacks(self) -> int:
        return sum(kinds.count(SackChunk) for kinds in self.kinds())


@dataclass
class Side:
    pc: RTCPeerConnection
    channel: RTCDataChannel
    wire: Wire
    received: list[bytes | str] = field(default_factory=list)

    @property
    def sctp(self) -> RTCSctpTransport:
        return sctp_of(self.pc)


def sctp_of(pc: RTCPeerConnection) -> RTCSctpTransport:
    """The connection's SCTP transport, which exists once a data channel is negotiated."""
    assert pc.sctp is not None, "no SCTP transport yet"
    return pc.sctp


def _tap(pc: RTCPeerConnection, wire: Wire) -> None:
    """Record (and maybe drop) every SCTP packet this side sends, just above DTLS encryption."""
    dtls = sctp_of(pc).transport
    send_data = dtls._send_data

    async def tapped(data: bytes) -> None:
        wire.sent.append(data)
        if wire.loss and wire.rng.random() < wire.loss:
            wire.dropped += 1
            return
        await send_data(data)

    dtls._send_data = tapped  # type: ignore[method-assign]


async def connect_pair(
    tune_offerer: bool,
    tune_answerer: bool,
    sack_delay: float | None = None,
    *,
    fast_offerer: bool = False,
    fast_answerer: bool = False,
    fast_kind: str = "python-fast",
    **channel_options: Any,
) -> tuple[Side, Side]:
    """An open channel between two peers (ordered and reliable unless `channel_options` say otherwise);
    each side's SCTP stock or tuned, its receive path stock or fast (`fast_kind`: python-fast or compiled)."""
    install = compiled_path.install if fast_kind == "compiled" else fast_path.install
    use_host_addresses(("127.0.0.1",))
    extra: dict[str, Any] = {} if sack_delay is None else {"sack_delay": sack_delay}
    offerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    answerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = offerer.createDataChannel("bench", **({"ordered": True} | channel_options))
    if tune_offerer:
        assert tune(sctp_of(offerer), **extra)
    if fast_offerer:
        assert install(sctp_of(offerer)), compiled_path.why_not()
    arrived: asyncio.Future[RTCDataChannel] = asyncio.get_running_loop().create_future()
    answerer.on("datachannel", arrived.set_result)
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    if tune_answerer:
        assert tune(sctp_of(answerer), **extra)
    if fast_answerer:
        assert install(sctp_of(answerer)), compiled_path.why_not()
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)
    remote = await asyncio.wait_for(arrived, 20)
    await poll(lambda: channel.readyState == "open" and remote.readyState == "open", "the channel opens")
    a, b = Side(offerer, channel, Wire()), Side(answerer, remote, Wire())
    for side in (a, b):
        _tap(side.pc, side.wire)
        side.channel.on("message", side.received.append)
    return a, b


async def close_pair(a: Side, b: Side) -> None:
    await a.pc.close()
    await b.pc.close()


async def poll(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """A bounded polling wait that names what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting until {what}"
        await asyncio.sleep(0.01)


async def exchange(a: Side, b: Side, count: int, burst: int = 20, size: int = 60) -> None:
    """Send `count` numbered messages each way, `burst` per loop turn, and wait until all arrived."""

    def message(sender: str, i: int) -> bytes:
        return f"{sender}{i:08d}".encode().ljust(size, b".")

    async def send_all(side: Side, name: str) -> None:
        for i in range(count):
            side.channel.send(message(name, i))
            if i % burst == burst - 1:
                await asyncio.sleep(0)

    await asyncio.gather(send_all(a, "a"), send_all(b, "b"))
    await poll(lambda: len(a.received) >= count and len(b.received) >= count, f"{count} messages arrive each way")
    assert b.received == [message("a", i) for i in range(count)], "a -> b lost, duplicated or reordered"
    assert a.received == [message("b", i) for i in range(count)], "b -> a lost, duplicated or reordered"
