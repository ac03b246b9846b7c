"""The compiled data path: the fast path (fast_path.py) with its DTLS records in C (compiled_dtls.py) and the
SCTP steady state handled in one C call.

Per received SCTP packet, stock aiortc parses every chunk into Python objects and runs about a dozen
coroutines (`_handle_data`, `_receive_chunk`, `_receive_data_chunk`, `_mark_received`, the inbound
stream's reassembly, `_receive`, `_data_channel_receive`). In the steady state (in-order TSNs, one
whole message per DATA chunk, no gaps or duplicates outstanding) all of that amounts to: advance the
cumulative TSN, advance the stream's sequence number, hand the message to the channel, owe a SACK.
`CompiledReceiver` does just that, after `_datapath.steady_chunks` (C) has checked the packet's length,
CRC32c, verification tag, chunk lengths and TSNs; the SACK owed is still sent by aiortc's (or the
tuning's) `_send_sack`. Every other packet goes to aiortc's own `_handle_data`, which finds the state as
it left it.

A SACK chunk in such a packet that only moves the cumulative TSN (no gap blocks or duplicates, no fast
recovery) is `_datapath.sack_steady` (C): the acknowledged chunks leave `_sent_queue`, the flight size,
cwnd and partial bytes acked change as in aiortc's `_receive_sack_chunk`; then aiortc's own `_update_rto`,
`_t3_cancel`/`_t3_restart` and, only when they have work, `_update_advanced_peer_ack_point`,
`_data_channel_flush` and `_transmit`. Any other SACK goes to aiortc's `_receive_sack_chunk`.

The send side is `compiled_sender.py`'s.

Pinned like the fast path: `RELIED_ON` fingerprints the aiortc code whose effect this reproduces.
"""

from __future__ import annotations

import time
from typing import Any

from aiortc.rtcsctptransport import (
    USERDATA_MAX_LENGTH,
    WEBRTC_BINARY,
    WEBRTC_BINARY_EMPTY,
    WEBRTC_STRING,
    WEBRTC_STRING_EMPTY,
    InboundStream,
    RTCSctpTransport,
    SackChunk,
)

from peerperf.peer import fast_path, native
from peerperf.peer.aiortc_pins import changed_functions
from peerperf.peer.compiled_dtls import CompiledDtlsReceiver
from peerperf.peer.compiled_sender import compile_sender
from peerperf.peer.sctp_tuning import TunedSctpTransport

#: sha256 (first 16 hex digits) of the aiortc functions whose effect `CompiledReceiver` reproduces for
#: steady-state packets (aiortc_pins.fingerprint's naming); any drift turns the compiled path off.
RELIED_ON = {
    "aiortc.rtcsctptransport:parse_packet": "b88a5f1d01e14c5f",
    "aiortc.rtcsctptransport:RTCSctpTransport._handle_data": "8661b724e20776bb",
    "aiortc.rtcsctptransport:RTCSctpTransport._receive_chunk": "830bae988365ba89",
    "aiortc.rtcsctptransport:RTCSctpTransport._receive_data_chunk": "790c2bb8cd0f5dd7",
    "aiortc.rtcsctptransport:RTCSctpTransport._mark_received": "2ac68b6a3934ca87",
    "aiortc.rtcsctptransport:RTCSctpTransport._get_inbound_stream": "7bb5d6a0225afa1c",
    "aiortc.rtcsctptransport:RTCSctpTransport._receive": "802b1265df7b6174",
    "aiortc.rtcsctptransport:RTCSctpTransport._data_channel_receive": "3df88b4b9c662b3b",
    "aiortc.rtcsctptransport:RTCSctpTransport._reset_deferred_streams": "e8a288bf519131b3",
    "aiortc.rtcsctptransport:InboundStream.add_chunk": "de934faf324b1b4b",
    "aiortc.rtcsctptransport:InboundStream.pop_messages": "bd29de9aa7c4f8fd",
    "aiortc.rtcsctptransport:SackChunk.__init__": "9b42035a753d375f",
    # A steady-state SACK (`sack_steady`, and `_sack` here): what it reproduces, skips when idle, or calls.
    "aiortc.rtcsctptransport:RTCSctpTransport._receive_sack_chunk": "4b35ccf1372cdec8",
    "aiortc.rtcsctptransport:RTCSctpTransport._flight_size_decrease": "16a9a53b25b96c7c",
    "aiortc.rtcsctptransport:RTCSctpTransport._update_advanced_peer_ack_point": "b10416e34e18a3db",
    "aiortc.rtcsctptransport:RTCSctpTransport._data_channel_flush": "d5f055f33db1abff",
    "aiortc.rtcsctptransport:RTCSctpTransport._transmit": "aa8941d5f8f020e8",
    "aiortc.rtcsctptransport:RTCSctpTransport._transmit_reconfig": "1036a467fb3cebdd",
    "aiortc.rtcsctptransport:RTCSctpTransport._update_rto": "a1e7afb18886a101",
    "aiortc.rtcsctptransport:RTCSctpTransport._t3_restart": "abf85ae57b8fa144",
    "aiortc.rtcsctptransport:RTCSctpTransport._t3_cancel": "0e0e3e38da292064",
    "aiortc.utils:uint32_gt": "d0ecf9cb5027e05a",
    "aiortc.utils:uint32_gte": "7bd07eecfdc27360",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._data_channel_flush": "3ebc3cc30ea10bdd",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._transmit": "c7cfafd975a228ed",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._uncork": "92b0dde953beb46d",
    # The send side (`serialize_packets`, and `send_corked` here): the encoding and grouping reproduced.
    "aiortc.rtcsctptransport:DataChunk.__bytes__": "46266f41c81fd18d",
    "aiortc.rtcsctptransport:SackChunk.__bytes__": "61413bad5c8305d4",
    "aiortc.rtcsctptransport:padl": "2ce2e3d95660c79a",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._send_corked": "89712992a55617fb",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._send_packet": "7f6f5cabbf0d2712",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._handle_data": "ee55c8f1d364a58f",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._receive_data_chunk": "46f366536883876b",
    # `CompiledSctpTransport`: the steady send (flush, `_send`, `_transmit`), the SACK built, the T3 timer.
    "aiortc.rtcsctptransport:RTCSctpTransport._send": "f0f8aff63a9a8743",
    "aiortc.rtcsctptransport:RTCSctpTransport._flight_size_increase": "ed02a0fe6eb506c9",
    "aiortc.rtcsctptransport:RTCSctpTransport._send_sack": "ac92513522fa60e7",
    "aiortc.rtcsctptransport:RTCSctpTransport._t3_start": "fa045ec7c5fff3d7",
    "aiortc.rtcsctptransport:RTCSctpTransport._t3_expired": "0e759bf4b1b2d8c8",
    "aiortc.rtcsctptransport:RTCSctpTransport._set_state": "72015aed4aa46827",
    "aiortc.rtcsctptransport:DataChunk.__init__": "d1db3756a5eb56ba",
    "aiortc.rtcsctptransport:tsn_plus_one": "11c8c952b096c8bd",
    "aiortc.utils:uint16_add": "0aedcd293bb4d368",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._send_sack": "21006212550e390e",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._acknowledge": "bc76198c27b2e2a8",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._sack_timer_expired": "0955ab6e1f1f5ebe",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._send_chunk": "8cc854cff0e387aa",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._data_channel_send": "32144699158ff48f",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._flush_turn": "c686e33fd97426e0",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._spawn": "6ed00db1d5f2e007",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._task_done": "b046f0b7c73d961a",
    "peerperf.peer.sctp_tuning:TunedSctpTransport._set_state": "c4b2b4c8379e6e6a",
    # The buffered amount, up on queueing and down on sending, kept on the channel's own attributes.
    "aiortc.rtcdatachannel:RTCDataChannel._addBufferedAmount": "9d3366126dabbbc5",
    "aiortc.rtcdatachannel:RTCDataChannel.__init__": "06a289bc11af2cf8",
    "peerperf.peer.sctp_tuning:_payload": "d0793b02ef2b8929",
}

SACK = 3
DATA_UNORDERED = 0x04
#: Payload protocol ids whose messages go straight to the channel (RFC 8831 8); DCEP goes through aiortc.
MESSAGES = {WEBRTC_STRING, WEBRTC_BINARY, WEBRTC_STRING_EMPTY, WEBRTC_BINARY_EMPTY}


def drifted_internals() -> list[str]:
    """What keeps the compiled path off here: the fast path's drift, a missing build, changed functions."""
    drift = fast_path.drifted_internals()
    if not native.available():
        drift.append(native.why_not)
    return drift + changed_functions(RELIED_ON)


_DRIFT = drifted_internals()


def available() -> bool:
    """Whether the compiled path can run here (built, and the pinned internals are the installed ones)."""
    return not _DRIFT and fast_path.available()


def why_not() -> str:
    """Why the compiled path is off here ("" when it is on)."""
    return ", ".join(_DRIFT)


def install(sctp: RTCSctpTransport) -> bool:
    """Give `sctp`'s connection the compiled receive path (False and the fast or stock path when it cannot run)."""
    if _DRIFT:
        fast_path.install(sctp)
        return False
    if type(sctp) is TunedSctpTransport:
        compile_sender(sctp)
    return fast_path.install(sctp, CompiledReceiver)


class CompiledReceiver(CompiledDtlsReceiver):
    """The fast path's receiver, with DTLS records in C (compiled_dtls.py) and steady-state SCTP packets
    handled without aiortc's per-chunk Python."""

    def __init__(self, dtls: Any) -> None:
        super().__init__(dtls)
        #: SCTP packets handled the compiled way (the rest went through aiortc's `_handle_data`).
        self.compiled = 0
        #: SACK chunks in those packets handled by `sack_steady` (the rest by aiortc's `_receive_sack_chunk`).
        self.sacks = 0

    def _deliver(self, plaintext: bytes) -> None:
        sctp = self.dtls._data_receiver
        if sctp is None:
            return
        if self._backlog is not None:
            self._backlog.append(plaintext)
            return
        chunks = self._steady(sctp, plaintext)
        if chunks is None:
            self._run(sctp._handle_data(plaintext))
            return
        self.compiled += 1
        self.sacks += sum(1 for chunk in chunks if chunk[0] == SACK)
        self._run(self._handle_steady(sctp, chunks))

    @staticmethod
    def _steady(sctp: Any, plaintext: bytes) -> list[Any] | None:
        """The packet's chunks if it is valid and in the steady state (else None: aiortc decides)."""
        if (
            sctp._association_state != RTCSctpTransport.State.ESTABLISHED
            or sctp._last_received_tsn is None
            or sctp._sack_misordered
            or sctp._sack_duplicates
        ):
            return None
        assert native.datapath is not None
        chunks = native.datapath.steady_chunks(plaintext, sctp._local_verification_tag, sctp._last_received_tsn)
        if chunks is None:
            return None
        streams = sctp._inbound_streams
        expected: dict[int, int] = {}
        for chunk in chunks:
            if chunk[0] == SACK:
                continue
            stream_id = chunk[3]
            stream: InboundStream | None = streams.get(stream_id)
            if stream is not None and stream.reassembly:
                return None  # a fragment or a later message waits: aiortc's reassembly decides
            if chunk[1] & DATA_UNORDERED:
                continue
            sequence = expected.get(stream_id, 0 if stream is None else stream.sequence_number)
            if chunk[4] != sequence:
                return None  # an earlier message is missing: aiortc holds this one back
            expected[stream_id] = (sequence + 1) & 0xFFFF
        return chunks

    @staticmethod
    async def _handle_steady(sctp: Any, chunks: list[Any]) -> None:
        """aiortc's `_handle_data` (and the tuning's, around it) for a steady-state packet, each DATA chunk's
        effect done inline: `_mark_received` (the TSN is the next one), the stream's reassembly (one whole
        message, the next in order) and `_data_channel_receive` for channel messages."""
        tuned = isinstance(sctp, TunedSctpTransport)
        if tuned:
            sctp._packet_has_data = False
            sctp._gap_before_packet = False
            sctp._cork_depth += 1
        try:
            for chunk in chunks:
                if chunk[0] == SACK:
                    await receive_sack(sctp, chunk[1], chunk[2])
                    continue
                _, flags, tsn, stream_id, sequence, ppid, data = chunk
                if tuned:
                    sctp._packet_has_data = True
                sctp._sack_needed = True
                sctp._last_received_tsn = tsn
                stream = sctp._get_inbound_stream(stream_id)
                if not flags & DATA_UNORDERED:
                    stream.sequence_number = (sequence + 1) & 0xFFFF
                channel = sctp._data_channels.get(stream_id) if ppid in MESSAGES else None
                if channel is None:
                    await sctp._receive(stream_id, ppid, data)
                elif ppid == WEBRTC_STRING:
                    channel.emit("message", data.decode("utf8"))
                elif ppid == WEBRTC_BINARY:
                    channel.emit("message", data)
                else:
                    channel.emit("message", "" if ppid == WEBRTC_STRING_EMPTY else b"")
                if sctp._reconfig_deferred is not None:
                    await sctp._reset_deferred_streams()
            if sctp._sack_needed:
                await sctp._send_sack()
        finally:
            if tuned:
                await sctp._uncork()


async def receive_sack(sctp: Any, flags: int, body: bytes) -> None:
    """aiortc's `_receive_sack_chunk` for one SACK chunk: the steady state in C (`sack_steady`) and aiortc's
    own methods for the timers and for any work left to send; any other SACK through aiortc's method."""
    assert native.datapath is not None
    result = native.datapath.sack_steady(sctp, body, time.time(), USERDATA_MAX_LENGTH)
    if result is None:
        await sctp._receive_sack_chunk(SackChunk(flags, body))
        return
    acked, rtt, ack_point, retransmit = result
    if acked < 0:
        return  # older than the last SACK: aiortc ignores it
    if rtt is not None:
        sctp._update_rto(rtt)
    if not sctp._sent_queue:
        sctp._t3_cancel()
    elif acked:
        sctp._t3_restart()
    if ack_point:
        sctp._update_advanced_peer_ack_point()
    if (
        retransmit
        or sctp._forward_tsn_chunk is not None
        or sctp._data_channel_queue
        or sctp._outbound_queue
        or sctp._reconfig_queue
    ):
        await sctp._data_channel_flush()
        await sctp._transmit()
