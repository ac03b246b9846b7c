"""The compiled path's send side (`_datapath.serialize_packets` + `compiled_sender.send_corked`) puts the same
bytes on the wire as the tuned SCTP's own `_send_corked`: random mixes of DATA (empty to larger than a
packet), SACK (with gaps and duplicates) and other chunks, grouped into the same packets with the same
CRC32c; chunk fields aiortc could not encode raise a clear error and never crash. Live connections:
tests/peer/test_compiled_sack.py and tests/peer/test_fast_path.py."""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiortc.rtcsctptransport import (
    SCTP_MAX_PACKET_LENGTH,
    DataChunk,
    ForwardTsnChunk,
    HeartbeatChunk,
    SackChunk,
    parse_packet,
)

from peerperf.peer import native
from peerperf.peer.compiled_sender import send_corked
from peerperf.peer.sctp_tuning import TunedSctpTransport
from tests.peer.test_compiled_sack import sender


def data(rng: random.Random) -> DataChunk:
    chunk = DataChunk(flags=rng.randrange(16))
    chunk.tsn, chunk.stream_id, chunk.stream_seq = rng.randrange(2**32), rng.randrange(2**16), rng.randrange(2**16)
    chunk.protocol = rng.choice([50, 51, 53, 56, 57, rng.randrange(2**32)])
    chunk.user_data = rng.randbytes(rng.choice([0, 1, 2, 3, 4, 5, 60, 1100, 1160, rng.randrange(1400)]))
    return chunk


def sack(rng: random.Random) -> SackChunk:
    chunk = SackChunk(flags=rng.randrange(2))
    chunk.cumulative_tsn, chunk.advertised_rwnd = rng.randrange(2**32), rng.randrange(2**32)
    chunk.gaps = [(rng.randrange(2**16), rng.randrange(2**16)) for _ in range(rng.choice([0, 0, 1, 3]))]
    chunk.duplicates = [rng.randrange(2**32) for _ in range(rng.choice([0, 0, 2]))]
    return chunk


def other(rng: random.Random) -> Any:
    if rng.random() < 0.5:
        forward = ForwardTsnChunk()
        forward.cumulative_tsn, forward.streams = rng.randrange(2**32), [(1, 2), (3, 4)]
        return forward
    heartbeat = HeartbeatChunk()
    heartbeat.params = [(1, rng.randbytes(rng.randrange(1, 30)))]
    return heartbeat


async def corked(tuned_send: bool, sack_chunk: SackChunk | None, chunks: list[Any]) -> list[bytes]:
    """What one sender puts on the wire for the held `sack_chunk` and `chunks`: the tuning's own
    `_send_corked` or the compiled one."""
    s = sender(tuned=True)
    sctp: Any = s.sctp
    sctp._corked_sack, sctp._corked_data = sack_chunk, list(chunks)
    await (TunedSctpTransport._send_corked(sctp) if tuned_send else send_corked(sctp))
    assert sctp._corked_sack is None and sctp._corked_data == []
    return s.dtls.sent


async def test_random_chunk_mixes_leave_as_the_same_packets() -> None:
    assert native.datapath is not None, native.why_not
    rng = random.Random(23)
    split = 0
    for round_ in range(400):
        sack_chunk = sack(rng) if rng.random() < 0.6 else None
        chunks = [rng.choice([data, data, data, sack, other])(rng) for _ in range(rng.randrange(0, 12))]
        expected = await corked(True, sack_chunk, chunks)
        got = await corked(False, sack_chunk, chunks)
        assert got == expected, f"round {round_}"
        for packet in got:
            assert len(packet) <= SCTP_MAX_PACKET_LENGTH or len(parse_packet(packet)[3]) == 1
        split += len(got) > 1
    assert split > 50, "the mixes never needed more than one packet: the grouping is untested"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("flags", 256, ValueError),
        ("tsn", 2**32, ValueError),
        ("stream_id", -1, OverflowError),
        ("protocol", "53", TypeError),
        ("user_data", None, TypeError),
        ("user_data", b"x" * 70000, ValueError),
    ],
)
async def test_data_fields_aiortc_could_not_encode_raise(field: str, value: Any, error: type[Exception]) -> None:
    chunk = data(random.Random(1))
    setattr(chunk, field, value)
    with pytest.raises(error):
        await corked(False, None, [chunk])


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("gaps", [(1, 2, 3)], ValueError),
        ("gaps", [(1, 70000)], ValueError),
        ("gaps", [None], TypeError),
        ("gaps", 5, TypeError),
        ("duplicates", [2**32], ValueError),
        ("duplicates", [1] * 20000, ValueError),
    ],
)
async def test_sack_fields_aiortc_could_not_encode_raise(field: str, value: Any, error: type[Exception]) -> None:
    chunk = sack(random.Random(1))
    setattr(chunk, field, value)
    with pytest.raises(error):
        await corked(False, chunk, [])


async def test_a_chunk_without_a_type_raises() -> None:
    with pytest.raises(AttributeError):
        await corked(False, None, [object()])
