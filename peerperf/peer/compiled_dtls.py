"""The compiled data path's DTLS records: one C call per datagram each way where the fast path makes five or
six cffi calls and the Python between them.

`FastReceiver` reads a datagram's records through its `_unprotect` step (is it whole application-data
records? into OpenSSL's memory BIO, every plaintext record out, then what OpenSSL has to send) and writes one
through `_protect` (SSL_write, then the datagram out), each several cffi calls and the Python between them.
`_datapath.unprotect` and `_datapath.protect` (_dtls.c) make the same OpenSSL calls on the same SSL* and BIOs,
from C; this receiver overrides just those two steps, and everything around them (delivery, OpenSSL's
errors, the socket) is the fast path's.
"""

from __future__ import annotations

from typing import Any

from OpenSSL._util import ffi

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
        self._c_unprotect = native.datapath.unprotect
        self._c_protect = native.datapath.protect
        #: The pyOpenSSL connection whose pointers are cached (held, so they stay valid), and the pointers.
        self._ssl: Any = None
        self._ssl_addresses = (0, 0, 0)

    def _hold(self, ssl: Any) -> tuple[int, int, int]:
        """The pointers of `ssl` (dtls._ssl), cached with the connection itself held so they stay valid."""
        if ssl is not self._ssl:
            self._ssl, self._ssl_addresses = ssl, addresses(ssl)
        return self._ssl_addresses

    def _unprotect(self, data: bytes) -> tuple[list[bytes], int, bytes | None] | None:
        return self._c_unprotect(*self._hold(self.dtls._ssl), data)

    def _protect(self, data: bytes) -> bytes | None:
        ssl, _, from_bio = self._hold(self.dtls._ssl)
        datagram = self._c_protect(ssl, from_bio, data)
        if datagram.__class__ is int:
            self._ssl._raise_ssl_error(self._ssl._ssl, datagram)  # pyOpenSSL's own error (a closed connection, say)
        return datagram
