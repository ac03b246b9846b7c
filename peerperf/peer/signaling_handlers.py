"""A peer's side of signaling (reference 2.2): offers out, and the frames the lighthouse relays in.

Frames are handled one at a time in arrival order by one worker; a bad frame is counted and
logged, never fatal. Offers and answers carry the handshake the original checks: same protocol
version, lighthouse URL and layer, else REJECT.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from peerperf.errors import ProtocolError
from peerperf.peer.connections import Connections
from peerperf.peer.delivery_metrics import DeliveryMetrics
from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.lighthouse_client import LighthouseClient
from peerperf.peer.membership import Membership
from peerperf.peer.network import MeshView, accept_over_max
from peerperf.peer.settings import PeerSettings
from peerperf.peer.webrtc_connection import ClosedWhileNegotiating, PeerConnection
from peerperf.protocol.ids import random_id
from peerperf.protocol.positions import Position
from peerperf.protocol.signaling_frames import (
    NOTIFICATION_SOURCE,
    PROTOCOL_VERSION,
    CandidatePayload,
    Frame,
    FrameType,
    HandshakePayload,
    MembershipPayload,
    OptimalNetworkPayload,
    RejectPayload,
    RejectReason,
)
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)


def session_id() -> str:
    return random_id(16)


class SignalingHandlers:
    """Offers to other peers and the handling of every signaling frame addressed to this peer."""

    def __init__(
        self,
        client: LighthouseClient,
        settings: PeerSettings,
        connections: Connections,
        membership: Membership,
        known: KnownPeers,
        measures: DeliveryMetrics,
        supervisor: Supervisor,
        position: Callable[[], Position],
        view: Callable[[], MeshView],
        update_network: Callable[[], Awaitable[None]],
        spawn: Callable[[Awaitable[Any]], None],
    ) -> None:
        self._client = client
        self._settings = settings
        self._connections = connections
        self._membership = membership
        self._known = known
        self._measures = measures
        self._supervisor = supervisor
        self._position = position
        self._view = view
        self._update_network = update_network
        self._spawn = spawn
        self._frames: asyncio.Queue[Frame] = asyncio.Queue()
        self.bad_frames = 0

    @property
    def _id(self) -> str:
        assert self._client.peer_id is not None, "connect() first"
        return self._client.peer_id

    def receive(self, frame: Frame) -> None:
        """Queue a frame from the lighthouse for the worker."""
        self._frames.put_nowait(frame)

    async def run(self) -> None:
        """Handle signaling frames one at a time, in arrival order."""
        while True:
            frame = await self._frames.get()
            try:
                await self._handle(frame)
            except ProtocolError as exc:
                self.bad_frames += 1
                log.warning("peer %s: bad %s from %s: %s", self._id, frame.type.value, frame.src, exc)
            except Exception as exc:
                self.bad_frames += 1
                self._supervisor.report(f"handling {frame.type.value} from {frame.src}", exc)

    async def connect_to(self, peer_id: str) -> None:
        """Offer a connection and wait `peer_connect_timeout` for it to open, else destroy it."""
        connection = self._connections.open(peer_id, session_id(), initiator=True)
        try:
            offer = await connection.offer()
            self._connections.impair(connection)
            self._signal(FrameType.OFFER, peer_id, self._handshake(connection, offer))
            await asyncio.wait_for(connection.opened.wait(), self._settings.peer_connect_timeout)
        except TimeoutError:
            log.info(
                "peer %s: connection to %s did not open in %.1f s",
                self._id,
                peer_id,
                self._settings.peer_connect_timeout,
            )
        except Exception as exc:  # one failed offer must not end the network update of the others
            self._supervisor.report(f"connecting to {peer_id}", exc)
        finally:
            if not connection.connected:
                await connection.close()

    def _handshake(self, connection: PeerConnection, sdp: Any) -> HandshakePayload:
        low, high = sorted((self._id, connection.remote_id))
        return HandshakePayload(
            sdp,
            connection.session_id,
            f"{low}_{high}_{connection.session_id}",
            PROTOCOL_VERSION,
            self._client.url,
            self._membership.layer,
            tuple(self._position()),
        )

    def _signal(self, frame_type: FrameType, dst: str, payload: Any) -> None:
        self._client.send(Frame(frame_type, self._id, dst, payload))

    def _reject(self, dst: str, session: str | None, reason: RejectReason) -> None:
        self._signal(FrameType.REJECT, dst, RejectPayload(session, reason.value))

    async def _handle(self, frame: Frame) -> None:
        if frame.dst != self._id:
            return  # the original ignores frames not addressed to it
        handlers: dict[FrameType, Callable[[Frame], Awaitable[None]]] = {
            FrameType.OFFER: self._handle_offer,
            FrameType.ANSWER: self._handle_answer,
            FrameType.CANDIDATE: self._handle_candidate,
            FrameType.REJECT: self._handle_reject,
            FrameType.LEAVE: self._handle_gone,
            FrameType.EXPIRE: self._handle_gone,
            FrameType.OPTIMAL_NETWORK_RESPONSE: self._handle_hints,
        }
        handler = handlers.get(frame.type)
        if handler is not None:
            await handler(frame)
        elif frame.src == NOTIFICATION_SOURCE:
            self._handle_notification(frame)
        else:
            raise ProtocolError(f"unexpected {frame.type.value} frame")

    def _check_handshake(self, src: str, payload: HandshakePayload) -> bool:
        """Reference 2.2 step 3: same protocol version, lighthouse URL and layer, else REJECT."""
        if payload.protocol_version != PROTOCOL_VERSION:
            self._reject(src, payload.session_id, RejectReason.INCOMPATIBLE_PROTOCOL_VERSION)
            return False
        if payload.lighthouse_url != self._client.url or payload.layer != self._membership.layer:
            self._reject(src, payload.session_id, RejectReason.MUST_BE_IN_SAME_DOMAIN_AND_LAYER)
            return False
        return True

    async def _handle_offer(self, frame: Frame) -> None:
        assert frame.src is not None
        src, payload = frame.src, HandshakePayload.from_json(frame.payload)
        existing = self._connections.get(src)
        if existing is not None and existing.initiator and not existing.connected and self._id < src:
            return  # cross offers: the lower id stays the initiator
        if payload.position is not None:
            self._known.update_position(src, payload.position)
        at_capacity = len(self._connections.connected_ids()) >= self._settings.max_connections
        if at_capacity and not accept_over_max(self._view(), src, self._settings):
            self._reject(src, payload.session_id, RejectReason.TOO_MANY_CONNECTIONS)
            return
        if not self._check_handshake(src, payload):
            return
        self._known.ensure(src)
        connection = self._connections.open(src, payload.session_id, initiator=False)
        try:
            answer = await connection.answer(payload.sdp)
        except ClosedWhileNegotiating as exc:
            log.debug("%s", exc)  # replaced by a newer offer, or its peer left: nothing to answer
            return
        self._connections.impair(connection)
        self._signal(FrameType.ANSWER, src, self._handshake(connection, answer))
        if len(self._connections.connected_ids()) >= self._settings.max_connections:
            self._spawn(self._delayed_update(self._settings.over_connected_update_delay))

    async def _delayed_update(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._update_network()

    async def _handle_answer(self, frame: Frame) -> None:
        assert frame.src is not None
        payload = HandshakePayload.from_json(frame.payload)
        connection = self._connections.get(frame.src)
        if connection is None or connection.session_id != payload.session_id or not connection.initiator:
            return
        if not self._check_handshake(frame.src, payload):
            await connection.close()
            return
        await connection.accept_answer(payload.sdp)

    async def _handle_candidate(self, frame: Frame) -> None:
        assert frame.src is not None
        payload = CandidatePayload.from_json(frame.payload)
        connection = self._connections.get(frame.src)
        if connection is not None and (payload.session_id is None or payload.session_id == connection.session_id):
            await connection.add_candidate(payload.candidate)

    async def _handle_reject(self, frame: Frame) -> None:
        assert frame.src is not None
        payload = RejectPayload.from_json(frame.payload)
        log.info("peer %s: %s rejected the connection: %s", self._id, frame.src, payload.reason)
        self._measures.rejects[str(payload.reason)] += 1
        connection = self._connections.get(frame.src)
        if connection is not None:
            connection.rejected = True
        await self._connections.close(frame.src)
        if payload.reason == RejectReason.MUST_BE_IN_SAME_DOMAIN_AND_LAYER:
            self._known.remove(frame.src)

    async def _handle_gone(self, frame: Frame) -> None:
        """LEAVE / EXPIRE: the lighthouse could not deliver our signaling to `src`."""
        assert frame.src is not None
        connection = self._connections.get(frame.src)
        if connection is not None and not connection.connected:
            await connection.close()

    async def _handle_hints(self, frame: Frame) -> None:
        if frame.payload is None:
            return
        payload = OptimalNetworkPayload.from_json(frame.payload)
        if payload.layer_id != self._membership.layer:
            return
        for hint in payload.optimal_connections:
            if hint.id != self._id:
                self._known.update_position(hint.id, hint.position)
        await self._update_network()

    def _handle_notification(self, frame: Frame) -> None:
        payload = MembershipPayload.from_json(frame.payload)
        if not self._membership.notified(frame.type, payload):
            return
        if frame.type is FrameType.PEER_JOINED_LAYER:
            self._spawn(self._update_network())
        elif frame.type is FrameType.PEER_LEFT_LAYER:
            self._spawn(self._connections.close(payload.id))
