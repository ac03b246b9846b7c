"""A shorter receive path for aiortc data channels: same wire, fewer Python steps per datagram.

Stock aiortc 1.16.0 hands every received datagram through aioice's `StunProtocol.datagram_received`
(a STUN parse that raises for DTLS), an `asyncio.Queue` and a Task wake-up in
`RTCDtlsTransport._recv_next`, pyOpenSSL's `bio_write`/`recv` (a fresh 1,500-byte buffer and a raised
`WantReadError` per record) and `RTCSctpTransport._handle_data` awaited in that Task. Once the DTLS
handshake is done, `install` makes application-data datagrams (first byte 20-63, RFC 7983; every record
of content type 23) skip all of that: the socket's protocol hands them to `FastReceiver`, which feeds
OpenSSL through cffi with reused buffers and runs the SCTP coroutine synchronously (if it ever suspends,
it finishes in a Task and later datagrams wait their turn). Sends take the same shortcut: `SSL_write`
and out of the nominated socket in one call, not pyOpenSSL's `send`/`bio_read` and three coroutines.

Everything else takes aiortc's own path, unchanged: STUN (aioice), handshake records, alerts and
close_notify (queued for `RTCDtlsTransport._recv_next`, as aioice would), SRTP, and any datagram whose
records do not parse. It relies on private code of aiortc, aioice and pyOpenSSL, so it is pinned to
aiortc `PINNED_AIORTC` with fingerprints of every function whose behaviour it copies or bypasses
(`RELIED_ON`): on any drift `install` leaves the connection stock, and the tests name what drifted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from importlib.metadata import version
from typing import Any

from aioice.ice import StunProtocol
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcsctptransport import RTCSctpTransport
from OpenSSL._util import ffi, lib

from peerperf.peer.aiortc_pins import changed_functions
from peerperf.peer.resumed import Resumed

log = logging.getLogger(__name__)

#: The aiortc release whose internals (and aioice's and pyOpenSSL's it pulls in) this module was written against.
PINNED_AIORTC = "1.16.0"

#: sha256 (first 16 hex digits) of the source of each function this module copies or bypasses, by
#: "module:qualified.name".
RELIED_ON = {
    # What a DTLS datagram goes through in aiortc; `FastReceiver` does the same for application data.
    "aiortc.rtcdtlstransport:RTCDtlsTransport._recv_next": "998076720c05aa13",
    "aiortc.rtcdtlstransport:RTCDtlsTransport._RTCDtlsTransport__run": "24d63d929a104e16",
    "aiortc.rtcdtlstransport:RTCDtlsTransport._send_data": "ee6cd411dd7f8eda",
    "aiortc.rtcdtlstransport:RTCDtlsTransport._write_ssl": "6573c0237063bdf0",
    "aiortc.rtcdtlstransport:RTCDtlsTransport.start": "3b3522667fe0a3da",
    "aiortc.rtcdtlstransport:RTCDtlsTransport._set_state": "385f5542ac247175",
    "aiortc.rtcdtlstransport:RTCDtlsTransport.__init__": "3bffce6c2b56b5dc",
    "aiortc.rtcsctptransport:RTCSctpTransport._handle_data": "8661b724e20776bb",
    # aioice: the protocol whose class is swapped, and the queue the stock path reads.
    "aioice.ice:StunProtocol.datagram_received": "ff4c8b910d45fb3a",
    "aioice.ice:StunProtocol.__init__": "9d0df3c0c0c4f915",
    "aioice.ice:Connection.data_received": "5631b17fab717d6b",
    "aioice.ice:Connection.recvfrom": "676acc01e4a9a9da",
    "aioice.ice:Connection.send": "8f91d54578f0ca74",
    "aioice.ice:Connection.sendto": "bf162ec03bdce2cc",
    "aioice.ice:StunProtocol.send_data": "8bfbce074a897482",
    "aioice.ice:Connection.close": "25dcfac536f5f37c",
    # pyOpenSSL: the calls replaced by cffi ones (their attributes `_ssl`, `_into_ssl`, `_from_ssl`).
    "OpenSSL.SSL:Connection.bio_write": "2198d63b78ada6dc",
    "OpenSSL.SSL:Connection.recv": "84b0e9671ae37797",
    "OpenSSL.SSL:Connection.send": "3a17d0bf025164cf",
    "OpenSSL.SSL:Connection.bio_read": "bc83763ed40fc664",
}

#: DTLS record header: type (1), version (2), epoch (2), sequence number (6), length (2); RFC 6347 4.1.
RECORD_HEADER = 13
APPLICATION_DATA = 23
#: The largest DTLS plaintext record (RFC 6347 4.1, 2^14): the reused read buffer holds any record.
MAX_RECORD = 16384
#: aiortc's `_write_ssl` reads at most this much of OpenSSL's output per datagram; so does `FastReceiver`.
WRITE_CHUNK = 1500
#: The ICE component data channels use (aioice's `Connection.send`).
DATA_COMPONENT = 1


def drifted_internals() -> list[str]:
    """What differs from what this module was written against: the aiortc release, changed functions."""
    installed = version("aiortc")
    drift = [] if installed == PINNED_AIORTC else [f"aiortc {installed} (pinned {PINNED_AIORTC})"]
    return drift + changed_functions(RELIED_ON)


_DRIFT = drifted_internals()


def available() -> bool:
    """Whether the fast path can run here (the pinned internals are the installed ones)."""
    return not _DRIFT


def install(sctp: RTCSctpTransport, kind: type[FastReceiver] | None = None) -> bool:
    """Give `sctp`'s connection the fast receive path (a `kind`, `FastReceiver` by default) once its DTLS
    handshake is done; False (stock) on drift."""
    if _DRIFT:
        log.warning("fast data path off, aiortc internals differ from %s: %s", PINNED_AIORTC, ", ".join(_DRIFT))
        return False
    dtls = sctp.transport
    if getattr(dtls, "_peerperf_fast", None) is not None:
        return True
    receiver = (kind or FastReceiver)(dtls)
    dtls._peerperf_fast = receiver  # type: ignore[attr-defined]

    def state_changed() -> None:
        if dtls._state == State.CONNECTED:
            receiver.attach()

    dtls.on("statechange", state_changed)
    if dtls._state == State.CONNECTED:
        receiver.attach()
    return True


def application_data_only(data: bytes) -> bool:
    """Whether `data` is one or more whole DTLS records, every one application data."""
    position, end = 0, len(data)
    if not end:
        return False
    while position < end:
        if end - position < RECORD_HEADER or data[position] != APPLICATION_DATA:
            return False
        position += RECORD_HEADER + ((data[position + 11] << 8) | data[position + 12])
    return position == end


class FastStunProtocol(StunProtocol):
    """aioice's protocol for one socket, with DTLS datagrams (first byte 20-63) handed to a `FastReceiver`."""

    _peerperf_fast: FastReceiver

    def datagram_received(self, data: bytes | str, addr: tuple[Any, ...]) -> None:
        if data and 19 < data[0] < 64:  # type: ignore[operator]
            self._peerperf_fast.datagram(data, self.local_candidate.component)  # type: ignore[arg-type]
        elif data:
            super().datagram_received(data, addr)
        # An empty datagram is dropped: stock aiortc would index its first byte and fail the DTLS transport.


class FastReceiver:
    """The receive side of one DTLS transport once its handshake is done: application data straight from
    the socket through OpenSSL to SCTP, everything else onto aiortc's queue."""

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self.dtls = dtls
        self.connection = dtls.transport._connection
        #: Datagrams received the fast way, the ones handed to aiortc's path, and those sent the fast way.
        self.fast = 0
        self.handed_on = 0
        self.sent = 0
        #: SCTP calls that suspended and finished in a Task.
        self.suspended = 0
        self._buffer = ffi.new("char[]", MAX_RECORD)
        self._view = ffi.buffer(self._buffer)
        self._out = ffi.new("char[]", WRITE_CHUNK)
        self._out_view = ffi.buffer(self._out)
        #: Plaintexts waiting while an SCTP call that suspended finishes in a Task (None: none suspended).
        self._backlog: deque[bytes] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self) -> None:
        """Route this connection's sockets through `FastStunProtocol` (they exist once ICE has connected),
        and its SCTP packets out through `send_data`."""
        self.dtls._send_data = self.send_data  # type: ignore[method-assign]
        for protocol in self.connection._protocols:
            if type(protocol) is StunProtocol:
                protocol.__class__ = FastStunProtocol
            if isinstance(protocol, FastStunProtocol):
                protocol._peerperf_fast = self

    def datagram(self, data: bytes, component: int) -> None:
        """One DTLS datagram from the socket (after any impairment)."""
        dtls = self.dtls
        records = self._unprotect(data) if dtls._state == State.CONNECTED else None
        if records is None:
            self.handed_on += 1
            self.connection.data_received(data, component)  # what aioice does once its STUN parse fails
            return
        self.fast += 1
        dtls._RTCDtlsTransport__rx_bytes += len(data)  # type: ignore[attr-defined]
        dtls._RTCDtlsTransport__rx_packets += 1  # type: ignore[attr-defined]
        plaintexts, error, outgoing = records
        closed = False
        if error != lib.SSL_ERROR_WANT_READ:
            lib.ERR_clear_error()  # a record that fails is dropped, as aiortc drops it (SSL.Error -> b"")
            closed = error == lib.SSL_ERROR_ZERO_RETURN
        if outgoing is not None:
            try:
                self._send(outgoing)
            except ConnectionError:  # ICE is gone: aiortc's receive loop ends on this error too
                closed = True
        for plaintext in plaintexts:
            self._deliver(plaintext)
        if closed:  # the remote closed DTLS: aiortc's receive loop ends as it does on close_notify
            self.connection._queue.put_nowait(None)

    def _unprotect(self, data: bytes) -> tuple[list[bytes], int, bytes | None] | None:
        """For a datagram of whole application-data records: every plaintext record (all read before any is
        delivered, which OpenSSL and SCTP cannot tell apart), SSL_get_error of the last read, and what OpenSSL
        has to send (None: nothing). None, with nothing done, for any other datagram: aiortc's path takes it."""
        if not application_data_only(data):
            return None
        ssl = self.dtls._ssl
        assert ssl is not None
        lib.BIO_write(ssl._into_ssl, data, len(data))
        plaintexts = []
        while (read := lib.SSL_read(ssl._ssl, self._buffer, MAX_RECORD)) > 0:
            plaintexts.append(self._view[:read])
        return plaintexts, lib.SSL_get_error(ssl._ssl, read), self._pending(ssl)

    def _pending(self, ssl: Any) -> bytes | None:
        """aiortc's `_write_ssl` without the raised error when OpenSSL has nothing to send (the usual case)."""
        written = lib.BIO_read(ssl._from_ssl, self._out, WRITE_CHUNK)
        return self._out_view[:written] if written > 0 else None

    async def send_data(self, data: bytes) -> None:
        """aiortc's `RTCDtlsTransport._send_data` in one synchronous step: the same errors, the same datagram."""
        self.send_now(data)

    def send_now(self, data: bytes) -> None:
        """`send_data` without its coroutine (the compiled path calls this directly)."""
        if self.dtls._state != State.CONNECTED:
            raise ConnectionError("Cannot send encrypted data, not connected")
        datagram = self._protect(data)
        if datagram is not None:
            self._send(datagram)

    def _protect(self, data: bytes) -> bytes | None:
        """The datagram OpenSSL makes of `data` (None if it has nothing to send); pyOpenSSL's own error when
        the write fails (a closed connection, say)."""
        ssl = self.dtls._ssl
        assert ssl is not None
        result = lib.SSL_write(ssl._ssl, data, len(data))
        if result <= 0:
            ssl._raise_ssl_error(ssl._ssl, result)
        return self._pending(ssl)

    def _send(self, datagram: bytes) -> None:
        """Out of the nominated socket now, as aioice's `Connection.send` does (it never suspends either)."""
        pair = self.connection._nominated.get(DATA_COMPONENT)
        if pair is None:
            raise ConnectionError("Cannot send data, not connected")
        pair.protocol.transport.sendto(datagram, pair.remote_addr)
        self.sent += 1
        self.dtls._RTCDtlsTransport__tx_bytes += len(datagram)  # type: ignore[attr-defined]
        self.dtls._RTCDtlsTransport__tx_packets += 1  # type: ignore[attr-defined]

    def _deliver(self, plaintext: bytes) -> None:
        receiver = self.dtls._data_receiver
        if receiver is None:
            return
        if self._backlog is not None:  # an earlier packet is still being handled: keep aiortc's one-at-a-time
            self._backlog.append(plaintext)
            return
        self._run(receiver._handle_data(plaintext))

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` to its end now if it never suspends, else finish it (then the backlog) in a Task."""
        try:
            suspended = work.send(None)
        except StopIteration:
            return
        except Exception:
            self._failed()
            return
        self.suspended += 1
        self._backlog = deque()
        task = asyncio.get_running_loop().create_task(self._finish(work, suspended))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, work: Coroutine[Any, Any, None], suspended: Any) -> None:
        try:
            await Resumed(work, suspended)
            while self._backlog:
                receiver = self.dtls._data_receiver
                plaintext = self._backlog.popleft()
                if receiver is not None:
                    await receiver._handle_data(plaintext)
        except Exception:
            self._failed()
        finally:
            self._backlog = None

    def _failed(self) -> None:
        """aiortc's receive loop logs what its data receiver raised and ends the transport; so does this."""
        log.warning("data channel receive failed, closing the DTLS transport", exc_info=True)
        self.connection._queue.put_nowait(None)
