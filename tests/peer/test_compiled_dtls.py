"""The compiled path's DTLS records (peerperf/peer/_dtls.c, compiled_dtls.py): bound only to the OpenSSL
pyOpenSSL's connections belong to, and on a live association the same records, errors and replay
protection as pyOpenSSL's own calls. The compiled path end to end (clean, rough, hostile, closed):
tests/peer/test_fast_path.py, whose compiled cases run these calls."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from aiortc.rtcdtlstransport import State
from OpenSSL import SSL
from OpenSSL._util import lib

from peerperf.peer import native
from peerperf.peer.compiled_dtls import CompiledDtlsReceiver, addresses
from tests.peer.aiortc_pairs import Side, close_pair, connect_pair, exchange


class Recorder:
    """Stands in for the extension: records what it was bound to."""

    def __init__(self) -> None:
        self.bound: tuple[int, ...] | None = None

    def bind_openssl(self, *addresses: int) -> None:
        self.bound = addresses


def test_the_extension_is_bound_to_the_openssl_pyopenssl_uses() -> None:
    assert native.datapath is not None, native.why_not
    recorder = Recorder()
    assert native._bind_openssl(recorder) == ""  # type: ignore[arg-type]
    assert recorder.bound is not None and len(recorder.bound) == len(native.OPENSSL_FUNCTIONS)
    assert all(recorder.bound) and len(set(recorder.bound)) == len(recorder.bound)


@pytest.mark.parametrize(
    ("functions", "named"),
    [
        ({"SSL_read": "int(*)(SSL *, char *, long)"}, "SSL_read is int(*)(SSL *, void *, int)"),
        ({"SSL_no_such_function": "int(*)(SSL *)"}, "SSL_no_such_function"),
    ],
)
def test_a_function_of_another_type_or_missing_binds_nothing_and_says_which(
    functions: dict[str, str], named: str
) -> None:
    recorder = Recorder()
    why = native._bind_openssl(recorder, functions)  # type: ignore[arg-type]
    assert named in why and recorder.bound is None


def test_an_unbound_extension_refuses_rather_than_calling_through_null() -> None:
    # A fresh interpreter with the extension loaded from its file alone, never bound (importing it through the
    # package binds it: peerperf.peer imports native).
    spec = importlib.util.find_spec(native.EXTENSION)
    assert spec is not None and spec.origin is not None
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('_datapath', {spec.origin!r})\n"
        "d = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(d)\n"
        "assert 'peerperf' not in sys.modules\n"
        "record = bytes([23, 254, 253]) + bytes(10)\n"
        "for call in (lambda: d.protect(1, 1, b'x'), lambda: d.unprotect(1, 1, 1, record)):\n"
        "    try:\n        call()\n    except RuntimeError as e:\n        print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.splitlines() == ["bind_openssl was not called"] * 2


def test_null_pointers_are_refused() -> None:
    assert native.datapath is not None
    record = bytes([23, 0xFE, 0xFD]) + bytes(8) + (1).to_bytes(2, "big") + b"x"
    with pytest.raises(ValueError, match="null"):
        native.datapath.protect(0, 0, b"x")
    with pytest.raises(ValueError, match="null"):
        native.datapath.unprotect(0, 0, 0, record)


@pytest.fixture
async def pair() -> Any:
    """A compiled offerer and a stock answerer, connected and exchanging."""
    a, b = await connect_pair(True, False, fast_offerer=True, fast_kind="compiled")
    await exchange(a, b, 20)
    yield a, b
    await close_pair(a, b)


def compiled_side(a: Side) -> tuple[CompiledDtlsReceiver, tuple[int, int, int]]:
    receiver = getattr(a.sctp.transport, "_peerperf_fast", None)
    assert isinstance(receiver, CompiledDtlsReceiver)
    return receiver, addresses(a.sctp.transport._ssl)


def stock_send(ssl: SSL.Connection, plaintext: bytes) -> bytes:
    """What pyOpenSSL (aiortc's `_send_data`) makes of `plaintext`: one DTLS datagram."""
    ssl.send(plaintext)
    return ssl.bio_read(1500)


async def test_records_each_way_read_as_pyopenssl_reads_them(pair: tuple[Side, Side]) -> None:
    a, b = pair
    assert native.datapath is not None
    _, (ssl, into_bio, from_bio) = compiled_side(a)
    theirs = b.sctp.transport._ssl
    assert theirs is not None
    datagram = native.datapath.protect(ssl, from_bio, b"from the compiled side")
    assert isinstance(datagram, bytes) and datagram[0] == 23
    theirs.bio_write(datagram)
    assert theirs.recv(1500) == b"from the compiled side"

    one, two = stock_send(theirs, b"one"), stock_send(theirs, b"two")
    assert native.datapath.unprotect(ssl, into_bio, from_bio, one + two) == (
        [b"one", b"two"],
        lib.SSL_ERROR_WANT_READ,
        None,
    )
    # OpenSSL's replay window is the one in use: a record already read is dropped.
    assert native.datapath.unprotect(ssl, into_bio, from_bio, one) == ([], lib.SSL_ERROR_WANT_READ, None)
    # So is a record whose ciphertext does not authenticate; the genuine one is still read after it.
    three = stock_send(theirs, b"three")
    forged = three[:-1] + bytes([three[-1] ^ 1])
    assert native.datapath.unprotect(ssl, into_bio, from_bio, forged) == ([], lib.SSL_ERROR_WANT_READ, None)
    assert native.datapath.unprotect(ssl, into_bio, from_bio, three) == ([b"three"], lib.SSL_ERROR_WANT_READ, None)
    a.received.clear()
    b.received.clear()
    await exchange(a, b, 100)


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        bytes([22, 0xFE, 0xFD]) + bytes(8) + (3).to_bytes(2, "big") + b"abc",
        bytes([23, 0xFE, 0xFD]) + bytes(8) + (5).to_bytes(2, "big") + b"abc",
        bytes([23, 0xFE, 0xFD]) + bytes(8) + (3).to_bytes(2, "big") + b"abc" + bytes([21]),
        bytes([23, 0xFE, 0xFD, 0, 1]),
    ],
    ids=["empty", "handshake", "length beyond the datagram", "alert byte after", "truncated header"],
)
async def test_anything_but_whole_application_data_records_is_left_to_aiortc(
    pair: tuple[Side, Side], datagram: bytes
) -> None:
    assert native.datapath is not None
    _, (ssl, into_bio, from_bio) = compiled_side(pair[0])
    assert native.datapath.unprotect(ssl, into_bio, from_bio, datagram) is None


def test_a_failed_write_raises_what_pyopenssl_raises() -> None:
    """A client that has not shaken hands: SSL_write starts the handshake and wants to read, which pyOpenSSL's
    `send` (stock aiortc's) raises as WantReadError; the compiled send raises the same."""

    def client() -> SSL.Connection:
        connection = SSL.Connection(SSL.Context(SSL.DTLS_METHOD), None)
        connection.set_connect_state()
        return connection

    ours = client()
    dtls = SimpleNamespace(transport=SimpleNamespace(_connection=None), _state=State.CONNECTED, _ssl=ours)
    receiver = CompiledDtlsReceiver(dtls)
    assert native.datapath is not None
    held = client()  # held while its pointers are used: a connection collected frees its SSL*
    ssl, _, from_bio = addresses(held)
    result = native.datapath.protect(ssl, from_bio, b"early")
    assert isinstance(result, int) and result <= 0
    with pytest.raises(SSL.WantReadError):
        receiver.send_now(b"early")
    with pytest.raises(SSL.WantReadError):
        client().send(b"early")
