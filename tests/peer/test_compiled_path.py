"""The compiled data path's own pieces: the C extension is built, its CRC32c and packet checks agree with
aiortc's, hostile packets (random, truncated, bad lengths) never crash it, and a live connection fed
hostile SCTP packets behind DTLS keeps working. Same-wire tests of whole connections:
tests/peer/test_fast_path.py (parametrised over both fast paths)."""

from __future__ import annotations

import random
from pathlib import Path
from struct import pack

import google_crc32c
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtcsctptransport import DataChunk, ForwardTsnChunk, SackChunk, parse_packet, serialize_packet

from peerperf.peer import compiled_path, data_path, native
from peerperf.peer.compiled_path import CompiledReceiver
from peerperf.peer.fast_path import FastReceiver
from tests.peer.aiortc_pairs import close_pair, connect_pair, exchange

TAG = 0x1234ABCD
LAST_TSN = 0xFFFFFFFE  # the next two TSNs wrap around 2^32


def test_the_c_extension_is_built_and_the_compiled_path_is_on() -> None:
    """A failure here on CI means setup.py's optional extension did not build: the log of `pip install -v`
    says why (no compiler, no Python headers)."""
    assert native.available(), native.why_not
    assert compiled_path.available(), compiled_path.why_not()
    assert data_path.in_effect("compiled") == "compiled"


def test_a_drift_in_what_the_compiled_path_reproduces_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "aiortc.rtcsctptransport:RTCSctpTransport._mark_received"
    monkeypatch.setitem(compiled_path.RELIED_ON, name, "0000000000000000")
    assert compiled_path.drifted_internals() == [name]
    monkeypatch.setattr(compiled_path, "_DRIFT", [name])
    assert data_path.in_effect("compiled") == "python-fast"
    assert name in data_path.describe("compiled")


async def test_without_the_build_peers_run_the_python_fast_path_and_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "datapath", None)
    monkeypatch.setattr(native, "why_not", "the C extension peerperf.peer._datapath is not built (test)")
    monkeypatch.setattr(compiled_path, "_DRIFT", compiled_path.drifted_internals())
    assert data_path.in_effect("compiled") == "python-fast"
    assert data_path.describe("compiled").startswith("data path python-fast: compiled is off: the C extension")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        pc.createDataChannel("x")
        assert pc.sctp is not None
        assert compiled_path.install(pc.sctp) is False
        assert type(pc.sctp.transport._peerperf_fast) is FastReceiver  # type: ignore[attr-defined]
    finally:
        await pc.close()


def test_an_unbuilt_extension_is_named_plainly_with_how_to_build_it() -> None:
    datapath, why = native._load("peerperf.peer._never_built")
    assert datapath is None
    assert why.startswith("the C extension peerperf.peer._never_built was not built; build it with:"), why
    assert "build_ext --inplace" in why and "circular" not in why and "partially initialized" not in why


def test_a_built_extension_that_does_not_load_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_ext.py").write_text("raise ImportError('undefined symbol: crc_table')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    datapath, why = native._load("broken_ext")
    assert datapath is None and "is built but does not load (undefined symbol: crc_table)" in why, why


def data_chunk(tsn: int, payload: bytes = b"hello", flags: int = 0x03, stream_seq: int = 0) -> DataChunk:
    chunk = DataChunk(flags=flags)
    chunk.tsn, chunk.stream_id, chunk.stream_seq, chunk.protocol, chunk.user_data = tsn, 1, stream_seq, 53, payload
    return chunk


def with_checksum(data: bytes) -> bytes:
    """`data` with its SCTP checksum set right, so the checks after it are reached."""
    return data[:8] + pack("<L", google_crc32c.value(data[:8] + b"\x00" * 4 + data[12:])) + data[12:]


def packet(*chunks: object, tag: int = TAG) -> bytes:
    """An SCTP packet of `chunks` (aiortc serialises each; the checksum is over them all)."""
    header = serialize_packet(5000, 5000, tag, data_chunk(0))[:12]
    return with_checksum(header + b"".join(bytes(c) for c in chunks))  # type: ignore[call-overload]


def steady(data: bytes, last_tsn: int = LAST_TSN) -> list[tuple[object, ...]] | None:
    assert native.datapath is not None
    return native.datapath.steady_chunks(data, TAG, last_tsn)


def test_crc32c_is_googles() -> None:
    assert native.datapath is not None
    rng = random.Random(3)
    for size in (0, 1, 7, 8, 9, 63, 1200):
        data = rng.randbytes(size)
        assert native.datapath.crc32c(data) == google_crc32c.value(data)


def test_in_order_whole_messages_and_sacks_are_the_steady_state() -> None:
    sack = SackChunk()
    sack.cumulative_tsn, sack.advertised_rwnd, sack.gaps, sack.duplicates = 7, 1000, [(2, 3)], [5]
    data = packet(sack, data_chunk(LAST_TSN + 1), data_chunk(0))
    parse_packet(data)  # aiortc takes it too
    chunks = steady(data)
    assert chunks is not None
    assert [c[0] for c in chunks] == [3, 0, 0]
    assert chunks[0] == (3, 0, bytes(sack)[4:])
    assert chunks[1] == (0, 0x03, LAST_TSN + 1, 1, 0, 53, b"hello")
    assert chunks[2][2] == 0, "the TSN after 2^32 - 1 is 0"


@pytest.mark.parametrize(
    ("what", "data"),
    [
        ("a gap before the DATA", packet(data_chunk(5))),
        ("a duplicate", packet(data_chunk(LAST_TSN))),
        ("a first fragment", packet(data_chunk(LAST_TSN + 1, flags=0x02))),
        ("a middle fragment", packet(data_chunk(LAST_TSN + 1, flags=0x00))),
        ("FORWARD-TSN", packet(ForwardTsnChunk())),
        ("another verification tag", packet(data_chunk(LAST_TSN + 1), tag=TAG + 1)),
        ("a bad checksum", packet(data_chunk(LAST_TSN + 1))[:-4] + b"\x00\x00\x00\x00"),
        ("DATA without user data", packet(data_chunk(LAST_TSN + 1, payload=b""))),
        ("a chunk longer than the packet", packet(data_chunk(LAST_TSN + 1))[:-2]),
        ("only a common header", packet(data_chunk(LAST_TSN + 1))[:12]),
        ("empty", b""),
    ],
)
def test_anything_else_is_left_to_aiortc(what: str, data: bytes) -> None:
    assert steady(data) is None, what


def test_a_sack_whose_counts_overrun_its_body_is_left_to_aiortc() -> None:
    sack = SackChunk()
    sack.cumulative_tsn, sack.duplicates = 1, [1, 2]
    forged = bytearray(packet(sack))
    forged[12 + 14 : 12 + 16] = (200).to_bytes(2, "big")  # 200 duplicates claimed, 2 present
    assert steady(packet(sack)) is not None
    assert steady(with_checksum(bytes(forged))) is None


def test_random_and_truncated_packets_never_crash_the_parser() -> None:
    """Random bytes, every truncation of valid packets and random corruptions with a fixed-up checksum."""
    rng = random.Random(23)
    valid = packet(SackChunk(), data_chunk(LAST_TSN + 1), data_chunk(0, b"x" * 300))
    for cut in range(len(valid) + 1):
        steady(valid[:cut])
    for _ in range(20000):
        data = bytearray(valid if rng.random() < 0.7 else rng.randbytes(rng.randrange(0, 80)))
        for _ in range(rng.randrange(1, 6)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        if len(data) >= 12 and rng.random() < 0.8:  # past the checksum, into the chunk walk
            data[4:8] = TAG.to_bytes(4, "big")
            data = bytearray(with_checksum(bytes(data)))
        chunks = steady(bytes(data))
        if chunks is not None:  # what the C code takes, aiortc parses alike
            _, _, _, parsed = parse_packet(bytes(data))
            assert len(parsed) == len(chunks)


async def test_hostile_sctp_packets_behind_dtls_leave_the_connection_working() -> None:
    a, b = await connect_pair(True, True, fast_offerer=True, fast_kind="compiled")
    try:
        await exchange(a, b, 100)
        taken = a.sctp.transport._peerperf_fast  # type: ignore[attr-defined]
        assert isinstance(taken, CompiledReceiver)
        compiled_before = taken.compiled
        rng = random.Random(5)
        last = a.sctp._last_received_tsn
        assert last is not None
        good = packet(data_chunk(last + 1), tag=a.sctp._local_verification_tag)
        hostile = [
            good[:-1] + b"\xff",  # bad checksum
            good[:20],  # truncated
            rng.randbytes(40),
            with_checksum(good[:12] + b"\x00\x00\xff\xff" + bytes(20)),  # a huge chunk length
            with_checksum(good[:12] + b"\x99\x00\x00\x08" + bytes(4)),  # an unknown chunk type
        ]
        # Not here: a DATA chunk too short for its header, on which aiortc's own parse raises and its
        # receive loop ends the transport; the compiled path hands it to aiortc, which does the same.
        for data in hostile:
            taken._deliver(data)
        assert a.sctp._last_received_tsn == last, "a hostile packet moved the cumulative TSN"
        a.received.clear()
        b.received.clear()
        await exchange(a, b, 300)
        assert taken.compiled > compiled_before + 10, "the compiled path stopped taking packets"
    finally:
        await close_pair(a, b)
