"""The compiled data path's DTLS records: one C call per datagram each way where the fast path makes five or
six cffi calls and the Python between them.

`FastReceiver.datagram` checks that a datagram is whole application-data records, writes it into OpenSSL's
memory BIO, reads plaintext records until OpenSSL wants more, then reads what OpenSSL has to send; `send_now`
writes a plaintext and reads the datagram out. `_datapath.unprotect` and `_datapath.protect` (_dtls.c) do the
same OpenSSL calls on the same SSL* and BIOs, from C. One difference of order: every record of a datagram
is read before the first is delivered (the fast path delivers each as it reads it), which changes nothing
OpenSSL or SCTP can see. What they leave to Python (deliver each plaintext, clear OpenSSL's errors after a
failed read, raise pyOpenSSL's error for a failed write, put the datagram on the socket) is the fast path's.
"""

from __future__ import annotations

from typing import Any

from aiortc.rtcdtlstransport import State
from OpenSSL._util import ffi, lib

from peerperf.peer import native
from peerperf.peer.fast_path import FastReceiver


def addresses(ssl: Any) -> tuple[int, int, int]:
    """The addresses of a pyOpenSSL connection's SSL*, its read BIO and its write BIO."""
    return tuple(int(ffi.cast("uintptr_t", pointer)) for pointer in (ssl._ssl, ssl._into_ssl, ssl._from_ssl))  # type: ignore[return-value]


class CompiledDtlsReceiver(FastReceiver):
    """The fast path's receiver with its DTLS record calls made in C."""

    def __init__(self, dtls: Any) -> None:
        super().__init__(dtls)
        assert native.datapath is not None, native.why_not
        self._unprotect = native.datapath.unprotect
        self._protect = native.datapath.protect
        #: The pyOpenSSL connection whose pointers are cached (held, so they stay valid), and the pointers.
        self._ssl: Any = None
        self._ssl_addresses = (0, 0, 0)

    def _addresses(self) -> tuple[int, int, int]:
        ssl = self.dtls._ssl
        if ssl is not self._ssl:
            assert ssl is not None
            self._ssl, self._ssl_addresses = ssl, addresses(ssl)
        return self._ssl_addresses

    def datagram(self, data: bytes, component: int) -> None:
        dtls = self.dtls
        if dtls._state != State.CONNECTED:
            records = None
        else:
            ssl, into_bio, from_bio = self._addresses()
            records = self._unprotect(ssl, into_bio, from_bio, data)
        if records is None:  # not (only) application data: aiortc's path, as the fast path hands it on
            self.handed_on += 1
            self.connection.data_received(data, component)
            return
        self.fast += 1
        dtls._RTCDtlsTransport__rx_bytes += len(data)  # type: ignore[attr-defined]
        dtls._RTCDtlsTransport__rx_packets += 1  # type: ignore[attr-defined]
        plaintexts, error, outgoing = records
        closed = False
        if error != lib.SSL_ERROR_WANT_READ:
            lib.ERR_clear_error()  # a record that fails is dropped, as aiortc drops it
            closed = error == lib.SSL_ERROR_ZERO_RETURN
        if outgoing is not None:
            try:
                self._send(outgoing)
            except ConnectionError:
                closed = True
        for plaintext in plaintexts:
            self._deliver(plaintext)
        if closed:
            self.connection._queue.put_nowait(None)

    def send_now(self, data: bytes) -> None:
        dtls = self.dtls
        if dtls._state != State.CONNECTED:
            raise ConnectionError("Cannot send encrypted data, not connected")
        ssl, _, from_bio = self._addresses()
        datagram = self._protect(ssl, from_bio, data)
        if datagram.__class__ is int:
            self._ssl._raise_ssl_error(self._ssl._ssl, datagram)  # pyOpenSSL's own error (a closed connection, say)
        elif datagram is not None:
            self._send(datagram)
