"""The compiled data path's send side (compiled_path.py installs it on tuned SCTP transports).

A tuned transport becomes a `CompiledSctpTransport`: its held chunks leave as packets built in one C call
(`_datapath.serialize_packets`: aiortc's chunk encoding, the tuning's grouping, CRC32c). Per message, stock
aiortc runs `_data_channel_flush`, `_send` and `_transmit` (three coroutines, a scan of `_sent_queue`) in a
Task; with nothing to retransmit and no FORWARD-TSN owed, that amounts to: number the chunk, put it in
flight if cwnd allows, else queue it. `CompiledSctpTransport` does that in one loop, run synchronously in a
loop callback (a Task only if it ever suspends), skips the cork and uncork of calls already corked, builds
the steady-state SACK without aiortc's gap walk, and keeps one T3 timer whose deadline moves instead of a
`call_later` + `cancel` per SACK (same expiry: when `_rto` has passed since the last start or restart).
A channel's buffered amount changes on aiortc's own attributes, "bufferedamountlow" emitted only to a
listener (pyee's emit without one does nothing). Anything else goes to aiortc's and the tuning's methods.

`compiled_path.RELIED_ON` pins the aiortc and tuning code whose effect this reproduces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from aiortc.rtcsctptransport import (
    SCTP_DATA_FIRST_FRAG,
    SCTP_DATA_LAST_FRAG,
    SCTP_DATA_UNORDERED,
    SCTP_MAX_PACKET_LENGTH,
    USERDATA_MAX_LENGTH,
    WEBRTC_BINARY,
    WEBRTC_DCEP,
    DataChunk,
    RTCSctpTransport,
    SackChunk,
)

from peerperf.peer import fast_path, native
from peerperf.peer.resumed import Resumed
from peerperf.peer.sctp_tuning import TunedSctpTransport, report_send_failure


def compile_sender(sctp: TunedSctpTransport) -> CompiledSctpTransport:
    """Make a tuned transport a `CompiledSctpTransport` (its T3 timer, if running, carried over)."""
    sctp.__class__ = CompiledSctpTransport
    compiled: CompiledSctpTransport = sctp  # type: ignore[assignment]
    compiled._t3_deadline = None
    compiled._t3_timer = None
    compiled._t3_timer_when = 0.0
    if compiled._t3_handle is not None:
        compiled._t3_handle.cancel()
        compiled._t3_handle = None
        compiled._t3_start()
    return compiled


async def send_corked(sctp: TunedSctpTransport) -> None:
    """The tuning's `_send_corked` with its packets built in one C call: the held SACK first, then the held
    DATA chunks, as few packets of at most `SCTP_MAX_PACKET_LENGTH` as fit them."""
    chunks = sctp._corked_data if sctp._corked_sack is None else [sctp._corked_sack, *sctp._corked_data]
    if not chunks:
        return
    sctp._corked_data, sctp._corked_sack = [], None
    assert native.datapath is not None
    packets = native.datapath.serialize_packets(
        sctp._local_port, sctp._remote_port, sctp._remote_verification_tag, chunks, SCTP_MAX_PACKET_LENGTH
    )
    send = sctp.transport._send_data
    receiver = getattr(send, "__self__", None)
    if isinstance(receiver, fast_path.FastReceiver) and send == receiver.send_data:
        for packet in packets:  # the fast path's own send: no coroutine per packet
            receiver.send_now(packet)
        return
    for packet in packets:
        await send(packet)


#: The flags of a DATA chunk holding one whole message (aiortc's `_send` for a single fragment).
WHOLE = SCTP_DATA_FIRST_FRAG | SCTP_DATA_LAST_FRAG


class CompiledSctpTransport(TunedSctpTransport):
    """The tuned SCTP transport with its steady-state sending done in fewer Python steps (module docstring).

    Same chunks, same packets, same state as the tuned transport (`compile_sender` swaps the class of a
    tuned one); anything but the steady state goes to the tuned and aiortc methods."""

    #: When T3 expires: `_rto` after its last start or restart (None: not running, as `_t3_handle` is None).
    _t3_deadline: float | None
    #: The one loop timer behind T3, and when it fires (it may fire early: it then moves on to the deadline).
    _t3_timer: asyncio.TimerHandle | None
    _t3_timer_when: float

    # One flush per loop turn, run in a callback rather than a Task.

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """The tuning's `_spawn` (a Task per flush or delayed SACK), as a loop callback that runs `work`
        synchronously: it starts on the same loop turn a Task would, and only if it suspends (a send that
        waits) is it finished in a Task; errors are reported as the tuning reports them (`report_send_failure`)."""
        asyncio.get_running_loop().call_soon(self._drive, work)

    def _drive(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            suspended = work.send(None)
        except StopIteration:
            return
        except Exception as error:
            report_send_failure(error)
            return
        task = asyncio.get_running_loop().create_task(_finish(work, suspended))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    # Calls already corked skip the tuning's cork and uncork (which are then no-ops).

    async def _data_channel_flush(self) -> None:
        """aiortc's `_data_channel_flush`, corked as the tuning corks it: the steady messages sent by
        `_send_steady`, any others by aiortc's loop."""
        if self._association_state != self.State.ESTABLISHED:
            return  # aiortc does nothing; the tuning's cork and uncork around it neither
        cork = not self._cork_depth
        self._cork_depth += cork
        try:
            self._send_steady()
            if self._data_channel_queue and not self._outbound_queue:
                await RTCSctpTransport._data_channel_flush(self)  # a message the steady loop left
            elif self._reconfig_queue:
                await self._transmit_reconfig()  # what aiortc's flush ends with; it has work only then
        finally:
            if cork:
                await self._uncork()

    async def _transmit(self) -> None:
        if self._cork_depth:
            await RTCSctpTransport._transmit(self)
        else:
            await TunedSctpTransport._transmit(self)

    async def _uncork(self) -> None:
        if self._cork_depth == 1 and self._corked_data and self._sack_needed:
            await self._acknowledge()  # RFC 4960 6.10: the owed SACK rides in the DATA packet
        self._cork_depth -= 1
        if not self._cork_depth and (self._corked_data or self._corked_sack is not None):
            await send_corked(self)

    async def _send_corked(self) -> None:
        await send_corked(self)

    def _data_channel_send(self, channel: Any, data: bytes | str) -> None:
        """The tuning's `_data_channel_send` for a bytes message that is not empty, with `_payload` and
        `_addBufferedAmount` inline (the amount goes up, so it never crosses the low threshold: no event)."""
        size, limit = len(data), self._remote_max_message_size
        if data.__class__ is not bytes or not size or (limit and size > limit):
            super()._data_channel_send(channel, data)  # text, empty, or too long (the tuning raises)
            return
        channel._RTCDataChannel__bufferedAmount += size
        self._data_channel_queue.append((channel, WEBRTC_BINARY, data))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._spawn(self._flush_turn())

    def _send_steady(self) -> None:
        """aiortc's flush loop, `_send` and `_transmit` for each queued message while nothing is to be
        retransmitted, no FORWARD-TSN is owed and the message is one chunk on a registered stream without a
        lifetime: the chunk numbered and put in flight (held for `_send_corked`) if cwnd allows, else
        queued. Stops, changing nothing more, before the first message that is not."""
        if self._forward_tsn_chunk is not None:
            return
        for sent in self._sent_queue:
            if sent._retransmit:
                return
        queue, sequences = self._data_channel_queue, self._outbound_stream_seq
        channel: Any  # its buffered amount is kept on aiortc's private attributes
        while queue and not self._outbound_queue:
            channel, protocol, user_data = queue[0]
            stream_id, size = channel.id, len(user_data)
            if stream_id is None or protocol == WEBRTC_DCEP or not 0 < size <= USERDATA_MAX_LENGTH:
                return
            if channel.maxPacketLifeTime:
                return
            queue.popleft()
            chunk = DataChunk.__new__(DataChunk)  # every field `DataChunk()` and `_send` set, set once here
            if channel.ordered:
                chunk.flags = WHOLE
                chunk.stream_seq = sequence = sequences.get(stream_id, 0)
                sequences[stream_id] = (sequence + 1) & 0xFFFF
            else:
                chunk.flags = WHOLE | SCTP_DATA_UNORDERED
                chunk.stream_seq = 0
            chunk.tsn = tsn = self._local_tsn
            chunk.stream_id = stream_id
            chunk.protocol = protocol
            chunk.user_data = user_data[:USERDATA_MAX_LENGTH]
            chunk._abandoned = False
            chunk._acked = False
            chunk._book_size = size
            chunk._expiry = None
            chunk._max_retransmits = channel.maxRetransmits
            chunk._misses = 0
            chunk._retransmit = False
            self._local_tsn = (tsn + 1) & 0xFFFFFFFF
            if self._flight_size < self._cwnd:  # `_transmit`'s min(flight + burst, cwnd), burst > 0
                self._sent_queue.append(chunk)
                chunk._in_flight = True
                self._flight_size += size
                chunk._sent_count = 1
                chunk._sent_time = time.time()
                self._corked_data.append(chunk)
                if not self._t3_handle:
                    self._t3_start()
            else:
                chunk._in_flight = False
                chunk._sent_count = 0
                chunk._sent_time = None
                self._outbound_queue.append(chunk)
            # aiortc's `_addBufferedAmount(-size)`, but no event without a listener (pyee's emit does nothing then)
            buffered = channel._RTCDataChannel__bufferedAmount
            channel._RTCDataChannel__bufferedAmount = buffered - size
            low = channel._RTCDataChannel__bufferedAmountLowThreshold
            if buffered > low >= buffered - size and channel.listeners("bufferedamountlow"):
                channel.emit("bufferedamountlow")

    async def _acknowledge(self) -> None:
        """The tuning's `_acknowledge` and aiortc's `_send_sack` for a SACK held while corked with no gaps
        or duplicates to report: the chunk built directly (a newer one supersedes it, as in `_send_chunk`)."""
        if not self._cork_depth or self._sack_misordered or self._sack_duplicates:
            await super()._acknowledge()
            return
        self._unacked_packets = 0
        self._forward_tsn_seen = False
        sack = SackChunk()
        sack.cumulative_tsn = self._last_received_tsn
        sack.advertised_rwnd = max(0, self._advertised_rwnd)
        self._corked_sack = sack
        self._sack_needed = False

    # T3: one loop timer; a restart moves the deadline, the timer moves on to it when it fires early.

    def _t3_start(self) -> None:
        assert self._t3_handle is None
        self._t3_arm()

    def _t3_restart(self) -> None:
        self._t3_arm()

    def _t3_cancel(self) -> None:
        self._t3_handle = None
        self._t3_deadline = None

    def _t3_arm(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = self._t3_deadline = loop.time() + self._rto
        timer = self._t3_timer
        if timer is None or self._t3_timer_when > deadline:  # none, or one that would fire too late
            if timer is not None:
                timer.cancel()
            timer = self._t3_timer = loop.call_at(deadline, self._t3_fired)
            self._t3_timer_when = deadline
        self._t3_handle = timer

    def _t3_fired(self) -> None:
        self._t3_timer = None
        deadline = self._t3_deadline
        if deadline is None:
            return  # cancelled since
        if deadline > self._t3_timer_when:  # restarted since: wait on for the new deadline
            self._t3_handle = self._t3_timer = asyncio.get_running_loop().call_at(deadline, self._t3_fired)
            self._t3_timer_when = deadline
            return
        self._t3_deadline = None
        self._t3_expired()

    def _set_state(self, state: RTCSctpTransport.State) -> None:
        super()._set_state(state)
        if state == self.State.CLOSED and self._t3_timer is not None:
            self._t3_timer.cancel()
            self._t3_timer = None


async def _finish(work: Coroutine[Any, Any, None], suspended: Any) -> None:
    await Resumed(work, suspended)
