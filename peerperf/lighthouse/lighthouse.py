"""The lighthouse's state and rules, independent of how frames and requests arrive.

`Lighthouse` owns the registered clients, the offline queue, the peer registry and the layers, and
implements what each signaling frame does. The WebSocket handler (`websocket_endpoint.py`) and the HTTP
routes (`routes.py`) are thin adapters around it.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from peerperf.errors import ProtocolError, RequestError
from peerperf.lighthouse.connected_client import Client
from peerperf.lighthouse.layers import Layers
from peerperf.lighthouse.offline_queue import OfflineQueue
from peerperf.lighthouse.peer_registry import PeerRegistry
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.protocol.challenge import signature_matches
from peerperf.protocol.ids import counter_id
from peerperf.protocol.positions import parcel_of
from peerperf.protocol.signaling_frames import (
    RELAYED_TYPES,
    RESPONSE_SOURCE,
    Frame,
    FrameType,
    HeartbeatPayload,
    OptimalNetworkPayload,
    error_frame,
)
from peerperf.protocol.wallclock import now_ms_int
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

#: The lighthouse protocol version; 0.2 tells peers they may omit their id (server-assigned ids).
LIGHTHOUSE_VERSION = "0.2"
#: Attempts at finding a free server-assigned id before giving up (the original's maxIdIterations).
MAX_ID_ITERATIONS = 100_000


class Lighthouse:
    """Signaling, membership and liveness of one lighthouse."""

    def __init__(self, settings: LighthouseSettings) -> None:
        self.settings = settings
        self.clients: dict[str, Client] = {}
        self.queue = OfflineQueue(settings.queue_limit)
        self.peers = PeerRegistry()
        self.layers = Layers(settings.default_layers, settings.max_per_layer, self.send)
        self._next_assigned = 0
        #: Runs the background loops and each client's writer; unexpected errors are logged and counted.
        self.supervisor = Supervisor("lighthouse", logger=log)

    # ---- delivery ------------------------------------------------------------------------------

    def send(self, peer_id: str, frame: Frame) -> bool:
        """Deliver `frame` to a connected peer; False when it is not connected."""
        client = self.clients.get(peer_id)
        return client is not None and client.send(frame)

    # ---- registration --------------------------------------------------------------------------

    def assign_id(self) -> str | None:
        """A free id from the counter generator (reference 1.3), or None when none is left."""
        for _ in range(MAX_ID_ITERATIONS):
            candidate = counter_id(self._next_assigned, self.settings.id_alphabet, self.settings.id_length)
            self._next_assigned += 1
            if candidate not in self.clients:
                return candidate
        return None

    def validate(self, client: Client, payload: Any) -> bool:
        """Check a VALIDATION payload: anything under NO_AUTH, else the HMAC of the challenge."""
        ok = self.settings.no_auth or signature_matches(self.settings.secret, client.challenge, payload)
        client.authenticated = ok
        return ok

    def disconnect(self, client: Client) -> None:
        """Forget a client whose socket closed or timed out, telling its layer and rooms."""
        if self.clients.get(client.id) is not client:
            return
        del self.clients[client.id]
        self.layers.remove_peer(client.id)
        self.peers.remove(client.id)
        log.info("peer %s disconnected", client.id)

    def dead_clients(self) -> list[Client]:
        """Clients whose last HEARTBEAT is older than the alive timeout."""
        deadline = time.monotonic() - self.settings.alive_timeout
        return [c for c in self.clients.values() if c.last_seen <= deadline]

    def expire_queued(self) -> None:
        """Tell the sources of long-undelivered signaling that their destination never came."""
        for frame in self.queue.expire(self.settings.queue_expire_timeout):
            assert frame.dst is not None
            self.send(frame.dst, frame)

    # ---- frames ----------------------------------------------------------------------------------

    def handle(self, client: Client, frame: Frame) -> None:
        """Act on one frame from `client`; problems are answered with an ERROR frame."""
        frame = Frame(frame.type, client.id, frame.dst, frame.payload)  # src is always the sender
        try:
            if frame.type is FrameType.VALIDATION:
                ok = self.validate(client, frame.payload)
                client.send(Frame(FrameType.VALIDATION_OK if ok else FrameType.VALIDATION_NOK))
                if not ok:
                    raise CloseConnection()
            elif frame.type is FrameType.HEARTBEAT:
                self._heartbeat(client, frame)
            elif frame.type in RELAYED_TYPES:
                self._relay(client, frame)
            else:
                raise ProtocolError(f"{frame.type.value} is sent by the lighthouse, not to it")
        except ProtocolError as exc:
            log.warning("bad frame from %s: %s", client.id, exc)
            client.send(error_frame(str(exc)))

    def _heartbeat(self, client: Client, frame: Frame) -> None:
        client.last_seen = time.monotonic()
        if not client.authenticated:
            raise ProtocolError("send VALIDATION before HEARTBEAT; only liveness was recorded")
        beat = HeartbeatPayload.from_json(frame.payload if frame.payload is not None else {})
        info = self.peers.ensure(client.id)
        info.last_ping_ms = now_ms_int()
        info.connected_peer_ids = beat.connected_peer_ids
        if beat.position is not None:
            if len(beat.position) not in (2, 3):
                raise ProtocolError("HEARTBEAT position must have 2 or 3 coordinates")
            info.position = beat.position
            info.parcel = beat.parcel or (parcel_of(beat.position) if len(beat.position) == 3 else None)
        if beat.optimize_network:
            self._answer_optimal_network(client, beat)

    def _answer_optimal_network(self, client: Client, beat: HeartbeatPayload) -> None:
        info = self.peers.ensure(client.id)
        layer = self.layers.layer_of(client.id)
        response = Frame(FrameType.OPTIMAL_NETWORK_RESPONSE, RESPONSE_SOURCE, client.id)
        if layer is not None and info.position is not None:
            hints = self.peers.optimal_connections(info, layer.peers, beat.max_distance)
            response = Frame(response.type, response.src, response.dst, OptimalNetworkPayload(layer.id, tuple(hints)))
        client.send(response)

    def _relay(self, client: Client, frame: Frame) -> None:
        if not client.authenticated:
            raise ProtocolError(f"send VALIDATION before {frame.type.value}; frame dropped")
        if not frame.dst:
            raise ProtocolError(f"{frame.type.value} needs a dst")
        target = self.clients.get(frame.dst)
        if target is not None:
            if not target.send(frame):
                self.send(client.id, Frame(FrameType.LEAVE, src=frame.dst, dst=client.id))
        elif frame.type not in (FrameType.LEAVE, FrameType.EXPIRE) and not self.queue.add(frame.dst, frame):
            raise ProtocolError(f"too many frames queued for offline peer {frame.dst} (or from you); dropped")

    # ---- HTTP authorization ----------------------------------------------------------------------

    def authorize(self, peer_id: str, token: str | None) -> None:
        """Allow an HTTP call acting on `peer_id` only with that peer's validated token."""
        client = self.clients.get(peer_id)
        if client is None or not client.authenticated or token is None or not hmac.compare_digest(client.token, token):
            raise RequestError(401, "unauthorized", f"X-Peer-Token must be the token of validated peer '{peer_id}'")


class CloseConnection(Exception):
    """Raised inside `handle` when the frame ends the connection (failed validation)."""
