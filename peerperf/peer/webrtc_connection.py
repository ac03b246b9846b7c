"""One WebRTC connection to another peer: an aiortc RTCPeerConnection with one data channel.

As the original (simple-peer): the initiator creates a single ordered, reliable channel with a random
40-hex-character label; the answerer takes whatever channel arrives. aiortc gathers every candidate
before `setLocalDescription` returns, so offers and answers carry complete SDP; trickled candidates
from browser peers are still accepted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from peerperf.errors import PeerperfError
from peerperf.peer import data_path
from peerperf.peer.channel_messages import deliver_messages
from peerperf.peer.ice import ConnectionConfiguration
from peerperf.peer.sctp_tuning import tune
from peerperf.peer.settings import STOCK_DATA_PATH
from peerperf.protocol.signaling_frames import IceCandidate, SessionDescription
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)


class ClosedWhileNegotiating(PeerperfError):
    """The connection was closed (replaced by a newer offer, or its peer left) during offer/answer."""


class PeerConnection:
    """A data connection to `remote_id` for one signaling session."""

    def __init__(
        self,
        remote_id: str,
        session_id: str,
        initiator: bool,
        configuration: ConnectionConfiguration,
        on_data: Callable[[str, bytes], None],
        on_closed: Callable[[PeerConnection], None],
        on_opened: Callable[[PeerConnection], None] | None = None,
        on_closing: Callable[[PeerConnection], None] | None = None,
        spawn: Callable[[Awaitable[Any]], Any] | None = None,
    ) -> None:
        self.remote_id = remote_id
        self.session_id = session_id
        self.initiator = initiator
        self.created = time.monotonic()
        #: When the data channel opened (monotonic s); None while it has not.
        self.opened_at: float | None = None
        #: The other side refused this connection (REJECT), so it is not a failure to open.
        self.rejected = False
        #: Frames received on this link, and what `Connections.silent_links` last saw of them and when.
        self.frames = 0
        self.frames_checked = 0
        self.quiet_since: float | None = None
        self.opened = asyncio.Event()
        self._on_opened = on_opened
        self._on_data = on_data
        self._on_closed = on_closed
        self._on_closing = on_closing
        #: Runs the closes the connection starts itself (its channel or transport went away): the owner's
        #: supervised spawn counts what they raise; alone, a supervisor of its own logs it.
        self._spawn = spawn or _own_supervisor(remote_id)
        self._closed = False
        #: Held by each offer/answer step: a close waits for it, since a step still gathering ICE
        #: candidates would bind sockets after the close and nothing would ever close them.
        self._negotiating = asyncio.Lock()
        self._channel: RTCDataChannel | None = None
        self._sctp_tuning = configuration.sctp_tuning
        self._data_path = configuration.data_path
        self.pc = RTCPeerConnection(configuration)
        self.pc.on("connectionstatechange", self._state_changed)
        if initiator:
            self._attach(self.pc.createDataChannel(secrets.token_hex(20), ordered=True))
            self._tune_sctp()
        else:
            self.pc.on("datachannel", self._attach)

    @property
    def connected(self) -> bool:
        return self._channel is not None and self._channel.readyState == "open" and not self._closed

    def _attach(self, channel: RTCDataChannel) -> None:
        if self._channel is not None:  # one channel per connection; extra ones are refused
            channel.close()
            return
        self._channel = channel
        channel.on("open", self._open)
        deliver_messages(channel, self._message)
        channel.on("close", self._close_soon)
        if channel.readyState == "open":
            self._open()

    def _open(self) -> None:
        if self.opened_at is not None or self._closed:
            return
        self.opened_at = time.monotonic()
        self.opened.set()
        if self._on_opened is not None:
            self._on_opened(self)

    def _message(self, message: bytes | str) -> None:
        self.frames += 1
        self._on_data(self.remote_id, message.encode() if isinstance(message, str) else message)

    def _state_changed(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._close_soon()

    def _close_soon(self) -> None:
        """Close in the background (from an event handler), the task kept and its failure reported."""
        if not self._closed:
            self._spawn(self.close())

    async def offer(self) -> SessionDescription:
        """Create the offer (complete SDP: candidates are gathered before this returns)."""
        async with self._negotiating:
            self._check_open("offering")
            await self.pc.setLocalDescription(await self.pc.createOffer())
            return SessionDescription(self.pc.localDescription.type, self.pc.localDescription.sdp)

    def _check_open(self, step: str) -> None:
        if self._closed:
            raise ClosedWhileNegotiating(f"connection to {self.remote_id} closed before {step}")

    def _tune_sctp(self) -> None:
        """Swap in the tuned SCTP transport and the fast receive path: the transport exists now and its
        association has not started."""
        if self.pc.sctp is None:
            return
        if self._sctp_tuning:
            tune(self.pc.sctp)
        if self._data_path != STOCK_DATA_PATH:
            data_path.install(self.pc.sctp, self._data_path)

    async def answer(self, offer: SessionDescription) -> SessionDescription:
        """The answer to `offer`; `ClosedWhileNegotiating` when the connection was closed first."""
        async with self._negotiating:
            self._check_open("answering")
            await self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, offer.type))
            self._tune_sctp()
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            return SessionDescription(self.pc.localDescription.type, self.pc.localDescription.sdp)

    async def accept_answer(self, answer: SessionDescription) -> None:
        """Take the remote answer; nothing to do when the connection was closed while it travelled."""
        async with self._negotiating:
            if not self._closed:
                await self.pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))

    async def add_candidate(self, candidate: IceCandidate) -> None:
        """Add a trickled candidate (browser peers); an empty candidate marks the end."""
        text = candidate.candidate.removeprefix("candidate:")
        if not text:
            return
        ice = candidate_from_sdp(text)
        ice.sdpMid = candidate.sdp_mid
        ice.sdpMLineIndex = candidate.sdp_m_line_index
        await self.pc.addIceCandidate(ice)

    def send(self, data: bytes) -> bool:
        if not self.connected:
            return False
        assert self._channel is not None
        self._channel.send(data)
        return True

    async def close(self) -> None:
        """Close the channel and the connection (idempotent); tells the owner once as it starts
        (`on_closing`) and once it is closed (`on_closed`)."""
        if self._closed:
            return
        self._closed = True
        self.opened.set()  # wake anyone waiting for the open
        if self._on_closing is not None:  # `connected` is False from here on
            self._on_closing(self)
        try:
            async with self._negotiating:
                await self.pc.close()
        finally:  # the owner forgets the connection even when aiortc's close failed
            self._on_closed(self)


def _own_supervisor(remote_id: str) -> Callable[[Awaitable[Any]], Any]:
    supervisor = Supervisor(f"connection to {remote_id}", logger=log)
    return lambda work: supervisor.spawn(work, "closing the connection")
