"""Network impairment inside the peer process, beneath DTLS and SCTP: no privileges, no netem.

aioice sends and receives every datagram of a connection (STUN checks, DTLS, SCTP) through the
`transport` of its `StunProtocol`s, one per gathered socket. `Impairment.attach` wraps each: sends
go through the peer's outbound `Link`, and the socket hands arrivals to a receiver that passes them
through the inbound `Link` before aioice sees them. Datagrams are delayed, dropped or duplicated,
never changed, so SCTP's retransmission and congestion control react as on a real network. One
`Impairment` per peer: its connections share one access link (rate cap, queue, delay order).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Generic, TypeVar

import aioice
import aioice.ice

from peerperf.peer.impairment_link import Fate, Link
from peerperf.peer.impairment_profile import LinkSpec, PeerImpairment

log = logging.getLogger(__name__)

T = TypeVar("T")
Address = Any


class ImpairmentSeamError(RuntimeError):
    """aioice no longer looks as the impairment layer expects: impairing would silently do nothing."""


@dataclass
class DatagramCounters:
    """What the impairment did to one peer's datagrams since the peer started."""

    #: Datagrams the peer sent (before impairment).
    sent: int = 0
    #: Datagrams that arrived from the network (before impairment).
    received: int = 0
    #: Datagrams lost by the loss model, either direction.
    dropped: int = 0
    #: Datagrams dropped because the rate cap's queue was full.
    queue_dropped: int = 0
    #: Datagrams held back (delay, jitter or the rate cap's queue) before going on.
    delayed: int = 0
    #: Datagrams delivered twice.
    duplicated: int = 0
    #: Held datagrams whose delivery raised (a harness error, logged; the ones behind them still go on).
    failed: int = 0

    def as_metrics(self) -> dict[str, int]:
        """The datapoint fields (`datagramsSent`, ...)."""
        return {"datagrams" + "".join(w.title() for w in k.split("_")): v for k, v in asdict(self).items()}


class DelayLine(Generic[T]):
    """Items of one socket and direction on their way through a `Link`, delivered at their arrival times."""

    def __init__(self, link: Link | None, counters: DatagramCounters, deliver: Callable[[T], None]) -> None:
        self._link = link
        self._counters = counters
        self._deliver = deliver
        self._loop = asyncio.get_running_loop()
        self._pending: list[tuple[float, int, T]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def push(self, size: int, item: T) -> None:
        if self._closed:
            return
        if self._link is None:
            self._deliver(item)
            return
        now = self._loop.time()
        admission = self._link.admit(size, now)
        if admission.dropped is Fate.LOST:
            self._counters.dropped += 1
            return
        if admission.dropped is Fate.QUEUE_FULL:
            self._counters.queue_dropped += 1
            return
        if len(admission.arrivals) > 1:
            self._counters.duplicated += 1
        if admission.arrivals[0] > now:
            self._counters.delayed += 1
        for arrival in admission.arrivals:
            if arrival <= now and not self._pending:
                self._deliver(item)
            else:
                heapq.heappush(self._pending, (arrival, next(self._order), item))
        self._arm()

    def _arm(self) -> None:
        if not self._pending:
            return
        first = self._pending[0][0]
        if self._timer is not None and self._timer.when() <= first:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(first, self._release)

    def _release(self) -> None:
        self._timer = None
        now = self._loop.time()
        while self._pending and self._pending[0][0] <= now and not self._closed:
            _, _, item = heapq.heappop(self._pending)
            try:
                self._deliver(item)
            except Exception:  # one failed delivery must not strand the datagrams behind it
                self._counters.failed += 1
                log.exception("delivering an impaired datagram failed (%d so far)", self._counters.failed)
        self._arm()

    def close(self) -> None:
        """Drop what is still in flight (the socket is gone)."""
        self._closed = True
        self._pending.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


Datagram = tuple[bytes, Address]


class ImpairedTransport(asyncio.DatagramTransport):
    """What aioice's `StunProtocol.transport` becomes: sends pass through the outbound delay line."""

    def __init__(
        self, inner: Any, outbound: DelayLine[Datagram], inbound: DelayLine[Datagram], counters: DatagramCounters
    ) -> None:
        super().__init__()
        self.inner = inner
        self._outbound = outbound
        self._inbound = inbound
        self._counters = counters

    def sendto(self, data: Any, addr: Address = None) -> None:
        self._counters.sent += 1
        self._outbound.push(len(data), (data, addr))

    def close(self) -> None:
        self._outbound.close()
        self._inbound.close()
        self.inner.close()

    def abort(self) -> None:
        self._outbound.close()
        self._inbound.close()
        self.inner.abort()

    def is_closing(self) -> bool:
        return bool(self.inner.is_closing())

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.inner.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return int(self.inner.get_write_buffer_size())


class ImpairedReceiver(asyncio.DatagramProtocol):
    """What the socket delivers to instead of aioice's protocol: arrivals pass the inbound delay line."""

    def __init__(
        self, protocol: Any, inbound: DelayLine[Datagram], outbound: DelayLine[Datagram], counters: DatagramCounters
    ) -> None:
        self.protocol = protocol
        self._inbound = inbound
        self._outbound = outbound
        self._counters = counters

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._counters.received += 1
        self._inbound.push(len(data), (data, addr))

    def error_received(self, exc: Exception) -> None:
        self.protocol.error_received(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._inbound.close()
        self._outbound.close()
        self.protocol.connection_lost(exc)


def stun_protocols(pc: Any) -> list[Any]:
    """The aioice protocols carrying `pc`'s data channel datagrams: the seam, checked so a change fails loudly."""
    sctp = pc.sctp
    if sctp is None:
        raise ImpairmentSeamError("the connection has no data channel transport yet")
    connection = getattr(sctp.transport.transport.iceGatherer, "_connection", None)
    protocols = getattr(connection, "_protocols", None)
    if not isinstance(protocols, list) or not all(
        isinstance(p, aioice.ice.StunProtocol)
        and hasattr(getattr(p, "transport", None), "sendto")
        and hasattr(p.transport, "set_protocol")
        for p in protocols
    ):
        raise ImpairmentSeamError(
            f"aioice {aioice.__version__}: RTCIceGatherer._connection._protocols is no longer a list of "
            "StunProtocol with a datagram transport; peerperf.peer.impairment needs updating"
        )
    if not protocols:
        raise ImpairmentSeamError("no socket gathered yet: attach after setLocalDescription")
    return protocols


class Impairment:
    """One peer's impaired network: both directions' links and the counters, attached to each connection."""

    def __init__(self, setup: PeerImpairment) -> None:
        self.setup = setup
        self.profile = setup.profile
        self.counters = DatagramCounters()
        self.outbound = self._link(setup.profile.outbound, "out")
        self.inbound = self._link(setup.profile.inbound, "in")

    def _link(self, spec: LinkSpec | None, direction: str) -> Link | None:
        return None if spec is None else Link(spec, random.Random(f"{self.setup.seed}/{direction}"))

    def attach(self, pc: Any) -> int:
        """Impair every socket of RTCPeerConnection `pc` (after `setLocalDescription`, before its ICE
        checks); returns how many sockets were newly wrapped."""
        wrapped = 0
        for protocol in stun_protocols(pc):
            if isinstance(protocol.transport, ImpairedTransport):
                continue
            self._wrap(protocol)
            wrapped += 1
        return wrapped

    def _wrap(self, protocol: Any) -> None:
        inner = protocol.transport
        counters = self.counters

        def send(datagram: Datagram) -> None:
            inner.sendto(*datagram)

        def receive(datagram: Datagram) -> None:
            protocol.datagram_received(*datagram)

        outbound = DelayLine(self.outbound, counters, send)
        inbound = DelayLine(self.inbound, counters, receive)
        protocol.transport = ImpairedTransport(inner, outbound, inbound, counters)
        inner.set_protocol(ImpairedReceiver(protocol, inbound, outbound, counters))


class SignalingDelay:
    """Delay (with jitter and rate) for the lighthouse WebSocket's frames, in order.

    TCP retransmits what is lost, so the profile's loss and duplication do not apply to signaling;
    its delay, jitter and rate do, per frame.
    """

    def __init__(self, setup: PeerImpairment) -> None:
        self.counters = DatagramCounters()
        self._links = {
            direction: None if spec is None else Link(_stream(spec), random.Random(f"{setup.seed}/ws-{direction}"))
            for direction, spec in (("out", setup.profile.outbound), ("in", setup.profile.inbound))
        }
        self._lines: dict[str, DelayLine[Callable[[], None]]] = {}

    def outbound(self, size: int, send: Callable[[], None]) -> None:
        self._line("out").push(size, send)

    def inbound(self, size: int, deliver: Callable[[], None]) -> None:
        self._line("in").push(size, deliver)

    def _line(self, direction: str) -> DelayLine[Callable[[], None]]:
        line = self._lines.get(direction)
        if line is None:
            line = self._lines[direction] = DelayLine(self._links[direction], self.counters, lambda call: call())
        return line

    def close(self) -> None:
        for line in self._lines.values():
            line.close()


def _stream(spec: LinkSpec) -> LinkSpec:
    """A TCP stream's view of a link: no loss, no duplicates, no queue drops, order kept."""
    return replace(spec, loss=None, duplicate=0.0, reorder=False, queue=2**62)
