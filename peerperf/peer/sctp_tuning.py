"""A cheaper SCTP path for aiortc data channels: delayed SACK, one flush per loop turn, chunk bundling.

Stock aiortc answers every DATA packet with a SACK packet of its own, sends every chunk in a packet
of its own and schedules a Task per `RTCDataChannel.send()`: each message costs two encrypted
datagrams. RFC 4960 asks for less: acknowledge at least every second DATA packet and within 200 ms,
at once on gaps and duplicates (section 6.2), and bundle chunks, control chunks first, into one
packet that fits the path MTU (sections 6.10 and 6.4). `TunedSctpTransport` does exactly that on top
of aiortc's own transport: every chunk is still serialised by aiortc, only the grouping of chunks
into packets and the moment a SACK leaves change, so any RFC-conforming stack is a valid peer.

It overrides private methods of aiortc's `RTCSctpTransport`, so it is pinned to the aiortc release
it was written against (`aiortc_pins.PINNED_AIORTC`, with fingerprints of the code it relies on in `RELIED_ON`):
`tune()` leaves a transport stock on any other release, and the tests fail loudly when either drifts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from importlib.metadata import version
from struct import pack
from typing import Any, cast

from aiortc import RTCDataChannel
from aiortc import rtcsctptransport as stock
from aiortc.rtcsctptransport import Chunk, DataChunk, ForwardTsnChunk, InitChunk, RTCSctpTransport, SackChunk
from OpenSSL.SSL import Error as SslError

from peerperf.peer.aiortc_pins import PINNED_AIORTC, changed_functions

log = logging.getLogger(__name__)

#: RFC 4960 section 6.2: a SACK SHOULD be sent within 200 ms of the first unacknowledged DATA packet.
SACK_DELAY = 0.2

#: RFC 4960 section 6.2: at least every second packet carrying DATA is acknowledged.
PACKETS_PER_SACK = 2

#: sha256 (first 16 hex digits) of the source of each aiortc function whose behaviour this module
#: depends on: the ones it overrides (their callers and side effects) and the ones it calls.
RELIED_ON = {
    "RTCSctpTransport.__init__": "294b0e5108438509",
    "RTCSctpTransport._handle_data": "8661b724e20776bb",
    "RTCSctpTransport._receive_chunk": "830bae988365ba89",
    "RTCSctpTransport._receive_data_chunk": "790c2bb8cd0f5dd7",
    "RTCSctpTransport._receive_forward_tsn_chunk": "a7b72a09e9c4bb20",
    "RTCSctpTransport._receive_sack_chunk": "4b35ccf1372cdec8",
    "RTCSctpTransport._mark_received": "2ac68b6a3934ca87",
    "RTCSctpTransport._send_sack": "ac92513522fa60e7",
    "RTCSctpTransport._send_chunk": "eb2f909e3c2ff5cc",
    "RTCSctpTransport._transmit": "aa8941d5f8f020e8",
    "RTCSctpTransport._data_channel_send": "bff23b8d60ecb624",
    "RTCSctpTransport._data_channel_flush": "d5f055f33db1abff",
    "RTCSctpTransport._set_state": "72015aed4aa46827",
    "serialize_packet": "5731d38491422e4c",
    "Chunk.__bytes__": "f6acf2568c771bea",
}


def drifted_internals() -> list[str]:
    """What differs from the pinned aiortc: its version and every relied-on function whose code changed."""
    drift = [] if version("aiortc") == PINNED_AIORTC else [f"aiortc {version('aiortc')} (pinned {PINNED_AIORTC})"]
    return drift + changed_functions(RELIED_ON)


_SUPPORTED = version("aiortc") == PINNED_AIORTC


def tune(sctp: RTCSctpTransport, sack_delay: float = SACK_DELAY) -> bool:
    """Make `sctp` a `TunedSctpTransport` before its association starts; False (and stock) on another aiortc."""
    if isinstance(sctp, TunedSctpTransport):
        return True
    if not _SUPPORTED:
        log.warning("aiortc %s is not %s: SCTP tuning is off", version("aiortc"), PINNED_AIORTC)
        return False
    sctp.__class__ = TunedSctpTransport
    cast(TunedSctpTransport, sctp)._adopt(sack_delay)
    return True


def _payload(data: bytes | str) -> tuple[int, bytes]:
    """The payload protocol id and bytes of one data channel message (RFC 8831 section 8)."""
    if isinstance(data, str):
        return (stock.WEBRTC_STRING, data.encode()) if data else (stock.WEBRTC_STRING_EMPTY, b"\x00")
    return (stock.WEBRTC_BINARY, data) if data else (stock.WEBRTC_BINARY_EMPTY, b"\x00")


class TunedSctpTransport(RTCSctpTransport):
    """aiortc's SCTP transport with RFC 4960's delayed SACK, bundling and one flush per loop turn.

    Outgoing DATA and SACK chunks are held ("corked") while aiortc handles one incoming packet, one
    flush of the data channel queue or one transmission round, then leave together: a pending SACK
    first, then as many DATA chunks as fit each packet.
    """

    _sack_delay: float
    _cork_depth: int
    _corked_data: list[DataChunk]
    _corked_sack: SackChunk | None
    _packet_has_data: bool
    _gap_before_packet: bool
    _forward_tsn_seen: bool
    _unacked_packets: int
    _sack_timer: asyncio.TimerHandle | None
    _flush_scheduled: bool
    _tasks: set[asyncio.Task[None]]
    #: INITs that arrived once the association was up, and were dropped (see `_receive_chunk`).
    stale_inits: int

    def _adopt(self, sack_delay: float) -> None:
        """Add the state a stock transport lacks (`tune` swaps the class of an existing transport)."""
        self._sack_delay = sack_delay
        self._cork_depth = 0
        self._corked_data = []
        self._corked_sack = None
        self._packet_has_data = False
        self._gap_before_packet = False
        self._forward_tsn_seen = False
        self._unacked_packets = 0
        self._sack_timer = None
        self._flush_scheduled = False
        self._tasks = set()
        self.stale_inits = 0

    async def _handle_data(self, data: bytes) -> None:
        self._packet_has_data = False
        self._gap_before_packet = bool(self._sack_misordered)
        self._cork_depth += 1
        try:
            await super()._handle_data(data)
        finally:
            await self._uncork()

    async def _receive_chunk(self, chunk: Chunk) -> None:
        """Drop an INIT once the association is up. aiortc takes any INIT as the start of an association
        and rewinds the cumulative TSN it has received to the INIT's: a late copy of the remote's INIT (a
        T1 retransmission overtaken under load) then makes the remote ignore every SACK as old while this
        side drops or repeats its DATA, one direction of an open channel silent for good. RFC 4960 5.2.2
        answers an INIT in ESTABLISHED without touching the association; WebRTC never restarts one."""
        if isinstance(chunk, InitChunk) and self._association_state == self.State.ESTABLISHED:
            self.stale_inits += 1
            log.warning("SCTP: dropped an INIT received on an established association (a stale copy)")
            return
        await super()._receive_chunk(chunk)

    async def _receive_data_chunk(self, chunk: DataChunk) -> None:
        self._packet_has_data = True
        await super()._receive_data_chunk(chunk)

    async def _receive_forward_tsn_chunk(self, chunk: ForwardTsnChunk) -> None:
        self._forward_tsn_seen = True
        await super()._receive_forward_tsn_chunk(chunk)

    async def _send_sack(self) -> None:
        """aiortc calls this after every packet that needs acknowledging: acknowledge now or within the delay."""
        self._unacked_packets += self._packet_has_data
        if self._must_acknowledge_now():
            await self._acknowledge()
        elif self._sack_timer is None:
            self._sack_timer = asyncio.get_running_loop().call_later(self._sack_delay, self._sack_timer_expired)

    def _must_acknowledge_now(self) -> bool:
        return (
            self._unacked_packets >= PACKETS_PER_SACK
            or self._gap_before_packet  # this packet may have filled a gap: tell the sender at once
            or bool(self._sack_misordered)
            or bool(self._sack_duplicates)
            or self._forward_tsn_seen
            or self._association_state != self.State.ESTABLISHED
        )

    async def _acknowledge(self) -> None:
        self._unacked_packets = 0
        self._forward_tsn_seen = False
        await super()._send_sack()

    def _sack_timer_expired(self) -> None:
        # The timer is never cancelled when a SACK leaves early: at expiry it sends only what is still owed.
        self._sack_timer = None
        if self._sack_needed:
            self._spawn(self._acknowledge())

    async def _send_chunk(self, chunk: Chunk) -> None:
        if self._cork_depth and isinstance(chunk, DataChunk):
            self._corked_data.append(chunk)
        elif self._cork_depth and isinstance(chunk, SackChunk):
            self._corked_sack = chunk  # a newer SACK supersedes an unsent one
        else:
            await self._send_corked()  # what was queued before this chunk leaves before it
            await super()._send_chunk(chunk)

    async def _transmit(self) -> None:
        self._cork_depth += 1
        try:
            await super()._transmit()
        finally:
            await self._uncork()

    async def _data_channel_flush(self) -> None:
        self._cork_depth += 1
        try:
            await super()._data_channel_flush()
        finally:
            await self._uncork()

    def _data_channel_send(self, channel: RTCDataChannel, data: bytes | str) -> None:
        """Queue one message; the queue is flushed once, by one Task, on the next turn of the event loop."""
        pp_id, user_data = _payload(data)
        if self._remote_max_message_size and len(user_data) > self._remote_max_message_size:
            raise ValueError(
                f"Cannot send message of {len(user_data)} bytes, the remote party "
                f"only supports messages up to {self._remote_max_message_size} bytes"
            )
        channel._addBufferedAmount(len(user_data))
        self._data_channel_queue.append((channel, pp_id, user_data))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._spawn(self._flush_turn())

    async def _flush_turn(self) -> None:
        self._flush_scheduled = False
        await self._data_channel_flush()

    def _set_state(self, state: RTCSctpTransport.State) -> None:
        super()._set_state(state)
        if state == self.State.CLOSED and self._sack_timer is not None:
            self._sack_timer.cancel()
            self._sack_timer = None

    async def _uncork(self) -> None:
        if self._cork_depth == 1 and self._corked_data and self._sack_needed:
            await self._acknowledge()  # RFC 4960 6.10: the owed SACK rides in the DATA packet
        self._cork_depth -= 1
        if self._cork_depth == 0:
            await self._send_corked()

    async def _send_corked(self) -> None:
        """Send the held chunks, SACK first, as few packets of at most SCTP_MAX_PACKET_LENGTH as fit them."""
        chunks = self._corked_data if self._corked_sack is None else [self._corked_sack, *self._corked_data]
        self._corked_data, self._corked_sack = [], None
        packet: list[bytes] = []
        size = stock.SCTP_COMMON_HEADER_LENGTH
        for chunk in chunks:
            encoded = bytes(chunk)
            if packet and size + len(encoded) > stock.SCTP_MAX_PACKET_LENGTH:
                await self._send_packet(packet)
                packet, size = [], stock.SCTP_COMMON_HEADER_LENGTH
            packet.append(encoded)
            size += len(encoded)
        if packet:
            await self._send_packet(packet)

    async def _send_packet(self, chunks: list[bytes]) -> None:
        header = pack("!HHL", self._local_port, self._remote_port, self._remote_verification_tag)
        body = b"".join(chunks)
        checksum = stock.crc32c(header + b"\x00\x00\x00\x00" + body)
        await self.transport._send_data(header + pack("<L", checksum) + body)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        report_send_failure(task.exception())


def report_send_failure(error: BaseException | None) -> None:
    """Log what a background send raised: quietly when the transport had closed under it."""
    if closed_under_send(error):
        log.debug("SCTP send after the transport closed: %s", error)
    else:
        log.error("SCTP background send failed", exc_info=error)


def closed_under_send(error: BaseException | None) -> bool:
    """The DTLS transport closed under a pending send (a delayed SACK or flush firing as the connection
    ends): aiortc raises ConnectionError once it knows; just before, OpenSSL says "protocol is shutdown"."""
    return isinstance(error, ConnectionError) or (isinstance(error, SslError) and "protocol is shutdown" in str(error))
