"""Type stubs of the C extension peerperf/peer/_datapath.c."""

from collections.abc import Sequence

def crc32c(data: bytes | bytearray | memoryview, /) -> int:
    """CRC32c (Castagnoli) of `data`."""

def steady_chunks(
    packet: bytes, verification_tag: int, last_tsn: int, /
) -> list[tuple[int, int, bytes] | tuple[int, int, int, int, int, int, bytes]] | None:
    """The packet's SACK chunks as (3, flags, body) and whole-message DATA chunks as
    (0, flags, tsn, stream_id, stream_seq, ppid, user_data), in order, when it is valid and every DATA
    chunk's TSN follows `last_tsn`; None when aiortc's own parse must decide."""

def sack_steady(
    sctp: object, body: bytes, now: float, userdata_max: int, /
) -> tuple[int, float | None, bool, bool] | None:
    """aiortc's `_receive_sack_chunk` up to its timers, on `sctp`'s own attributes, for a SACK chunk `body`
    with no gap blocks or duplicates outside fast recovery: (chunks acknowledged or -1 for an old SACK, the
    RTT sample, whether `_update_advanced_peer_ack_point` has work, whether a chunk awaits retransmission).
    None, with nothing changed, when aiortc's own method must handle it."""

def serialize_packets(
    source_port: int, destination_port: int, verification_tag: int, chunks: Sequence[object], max_length: int, /
) -> list[bytes]:
    """`chunks` as aiortc's `bytes(chunk)` encodes them, in order, grouped into SCTP packets of at most
    `max_length` bytes (a longer chunk alone in its own), each with its common header and CRC32c."""

def bind_openssl(ssl_read: int, ssl_write: int, bio_read: int, bio_write: int, ssl_get_error: int, /) -> None:
    """The addresses of the OpenSSL functions pyOpenSSL's SSL* belongs to (cryptography's)."""

def unprotect(
    ssl: int, into_bio: int, from_bio: int, datagram: bytes, /
) -> tuple[list[bytes], int, bytes | None] | None:
    """(plaintexts, SSL_get_error of the last read, the datagram OpenSSL wants sent or None) for a datagram of
    whole application-data records; None, touching nothing, for any other datagram."""

def protect(ssl: int, from_bio: int, plaintext: bytes, /) -> bytes | int | None:
    """The DTLS datagram for `plaintext` (None if OpenSSL has nothing to send), or SSL_write's result when it
    failed."""
