"""A peer of the mesh: the original peer library's `Peer`, over aiortc and a lighthouse.

It validates with the lighthouse, joins a layer and rooms, keeps `target_connections` data
channels open to the peers the connection policy picks, floods packets through them (`Mesh`), and
counts what it sends and receives (`GlobalStats`). `dispose()` leaves no task, socket or
connection behind.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from typing import Any

from peerperf.errors import LighthouseUnavailable, PeerStateError, ProtocolError, RequestError
from peerperf.peer.connection import PeerConnection
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.impairment import Impairment, SignalingDelay
from peerperf.peer.impairment_profile import PeerImpairment
from peerperf.peer.knownpeers import KnownPeers
from peerperf.peer.lighthouse_client import LighthouseClient
from peerperf.peer.measures import Measures
from peerperf.peer.mesh import Mesh, MessageHandler, SendTime, packet_send_time
from peerperf.peer.network import Connect, MeshView, band, next_operation
from peerperf.peer.settings import PeerSettings
from peerperf.peer.stats import GlobalStats
from peerperf.protocol.ids import is_valid_peer_id
from peerperf.protocol.messagetypes import MessageType
from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.positions import parcel_of
from peerperf.protocol.signaling import (
    NOTIFICATION_SOURCE,
    PROTOCOL_VERSION,
    CandidatePayload,
    Frame,
    FrameType,
    HandshakePayload,
    HeartbeatPayload,
    MembershipPayload,
    OptimalNetworkPayload,
    RejectPayload,
    RejectReason,
)
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

Position = tuple[float, ...]
StatsHandler = Callable[[dict[str, Any]], None]
#: Most network-policy steps one update runs (each step consumes candidates, so this is a backstop).
MAX_UPDATE_STEPS = 50


def _session_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


class Peer:
    """One simulated peer."""

    def __init__(
        self,
        lighthouse_url: str,
        peer_id: str | None = None,
        *,
        settings: PeerSettings | None = None,
        position: Position = (0.0, 0.0, 0.0),
        on_message: MessageHandler | None = None,
        on_stats: StatsHandler | None = None,
        on_status: Callable[[str], None] | None = None,
        token: str | None = None,
        send_time: SendTime = packet_send_time,
        impairment: PeerImpairment | None = None,
    ) -> None:
        if peer_id is not None and not is_valid_peer_id(peer_id):
            raise ValueError(f"invalid peer id {peer_id!r}: letters, digits and inner ' _-' only")
        self.settings = settings or PeerSettings()
        self.lighthouse_url = lighthouse_url
        self.position = position
        self.layer: str | None = None
        self.rooms: set[str] = set()
        self.room_members: dict[str, set[str]] = {}
        self.known = KnownPeers()
        self.stats = GlobalStats()
        self.measures = Measures()
        self._send_time = send_time
        self._reconnections_reported = 0
        #: Test-only hook below the mesh: a frame `(from_peer, data)` for which it returns False is
        #: dropped as if the network lost it.
        self.frame_filter: Callable[[str, bytes], bool] | None = None
        self._on_message = on_message or (lambda *_: None)
        self._on_stats = on_stats
        self._on_status = on_status or (lambda status: log.warning("peer status: %s", status))
        self._connections: dict[str, PeerConnection] = {}
        #: `connected_ids()`, kept between connection opens and closes (the mesh reads it per packet).
        self._connected_ids: list[str] | None = None
        self._rtc = rtc_configuration(self.settings)
        self._frames: asyncio.Queue[Frame] = asyncio.Queue()
        #: Runs the peer's loops and tasks (and its lighthouse client's): unexpected errors are logged and counted.
        self.supervisor = Supervisor(
            lambda: f"peer {self.client.peer_id}", expected=(RequestError, PeerStateError, LighthouseUnavailable)
        )
        self._harness_errors_reported = 0
        self._updating = False
        self._disposed = False
        self.bad_signaling = 0
        #: This peer's impaired network (None: a perfect one); its connections are attached as they gather.
        self.impairment = Impairment(impairment) if impairment is not None else None
        self.signaling_delay = SignalingDelay(impairment) if impairment is not None and impairment.signaling else None
        self.client = LighthouseClient(
            lighthouse_url,
            peer_id,
            token or secrets.token_hex(8),
            self.settings,
            self._frames.put_nowait,
            self._heartbeat_payload,
            self._rejoin,
            self._on_status,
            self.signaling_delay,
            self.supervisor,
        )
        self._next_hint_request = time.monotonic() + self.settings.optimize_network_interval
        self.mesh: Mesh | None = None

    @property
    def id(self) -> str:
        assert self.client.peer_id is not None, "connect() first"
        return self.client.peer_id

    # ---- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Validate with the lighthouse and start the peer's loops."""
        use_host_addresses(self.settings.host_addresses)
        await self.client.connect()
        self.mesh = Mesh(
            self.id,
            self,
            self.known,
            self.stats,
            self.settings,
            lambda: self.rooms,
            self._deliver,
            self.measures,
            self._send_time,
        )
        self._spawn(self._signaling_worker())
        self.supervisor.repeat(self.settings.expiration_loop_interval, self._housekeeping, "housekeeping")
        if self.settings.stats_update_interval > 0:
            self.supervisor.repeat(
                self.settings.stats_update_interval, self.close_stats_window, "closing a stats window"
            )
        if self.settings.network_update_interval > 0:
            self.supervisor.repeat(self.settings.network_update_interval, self.update_network, "updating the network")
        if self.settings.ping_interval is not None:
            self.supervisor.repeat(self.settings.ping_interval, self._ping_round, "pinging")

    async def set_layer(self, layer: str) -> None:
        """Join `layer`: its members become known peers; connections to another layer are dropped."""
        if self.layer not in (None, layer):
            await self._drop_all_connections()
            self.rooms.clear()
            self.room_members.clear()
            self.known.clear()
        users = await self.client.request(
            "PUT",
            f"/layers/{layer}",
            {"id": self.id, "userId": self.id, "peerId": self.id, "protocolVersion": PROTOCOL_VERSION},
        )
        self.layer = layer
        self._learn_users(users)
        self._spawn(self.update_network())

    async def join_room(self, room: str) -> None:
        """Join `room` of the current layer; packets for it are then delivered."""
        if self.layer is None:
            raise PeerStateError("set_layer() before join_room()")
        self.rooms.add(room)
        users = await self.client.request(
            "PUT", f"/layers/{self.layer}/rooms/{room}", {"id": self.id, "userId": self.id, "peerId": self.id}
        )
        self.room_members[room] = {u["id"] for u in users if isinstance(u, dict) and u.get("id") != self.id}
        self._learn_users(users)
        await self.update_network()

    def _learn_users(self, users: Any) -> None:
        """Add the members a layer or room call returned as known peers, with their positions."""
        for user in users if isinstance(users, list) else []:
            if not isinstance(user, dict) or not isinstance(user.get("id"), str) or user["id"] == self.id:
                continue
            known = self.known.ensure(user["id"])
            position = user.get("position")
            if known.position is None and isinstance(position, list) and len(position) in (2, 3):
                known.position = tuple(float(v) for v in position)

    async def leave_room(self, room: str) -> None:
        if self.layer is None or room not in self.rooms:
            return
        self.rooms.discard(room)
        self.room_members.pop(room, None)
        await self.client.request("DELETE", f"/layers/{self.layer}/rooms/{room}/users/{self.id}")

    async def _rejoin(self) -> None:
        """After a lighthouse reconnection: join the layer and every room again (connections stay)."""
        if self.layer is None:
            return
        users = await self.client.request(
            "PUT",
            f"/layers/{self.layer}",
            {"id": self.id, "userId": self.id, "peerId": self.id, "protocolVersion": PROTOCOL_VERSION},
        )
        self._learn_users(users)
        for room in list(self.rooms):
            await self.join_room(room)

    async def dispose(self) -> None:
        """Stop everything: loops, connections, the lighthouse socket and HTTP session."""
        if self._disposed:
            return
        self._disposed = True
        await self.supervisor.close()
        await self._drop_all_connections()
        await self.client.close()

    # ---- sending ------------------------------------------------------------------------------

    def send_message(self, room: str, payload: Payload, message_type: MessageType) -> Packet:
        assert self.mesh is not None, "connect() first"
        return self.mesh.send_message(room, payload, message_type)

    def set_peer_position(self, peer_id: str, position: Position) -> None:
        """Record where another peer is (the perf client does this from position messages)."""
        if peer_id != self.client.peer_id:
            self.known.update_position(peer_id, position)

    # ---- Links (what the mesh sends on) ---------------------------------------------------------

    def connected_ids(self) -> list[str]:
        """The peers with an open data channel (a shared list: do not modify it)."""
        if self._connected_ids is None:
            self._connected_ids = [peer_id for peer_id, conn in self._connections.items() if conn.connected]
        return self._connected_ids

    def _connections_changed(self, _connection: PeerConnection | None = None) -> None:
        self._connected_ids = None

    def send(self, peer_id: str, data: bytes) -> None:
        connection = self._connections.get(peer_id)
        if connection is not None:
            connection.send(data)

    # ---- metrics ------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """The original's submission body (reference section 3) for the last closed window."""
        body = self.stats.as_metrics()
        body["connectedPeers"] = list(self.connected_ids())
        body["knownPeersCount"] = len(self.known)
        body["position"] = list(self.position)
        latency = self.known.average_latency()
        if latency is not None:
            body["averageLatency"] = latency
        return body

    def impairment_metrics(self) -> dict[str, Any]:
        """The `impairment` profile name ("" for none) and, when impaired, the datagram counters."""
        if self.impairment is None:
            return {"impairment": ""}
        return {"impairment": self.impairment.profile.name, **self.impairment.counters.as_metrics()}

    def close_stats_window(self) -> dict[str, Any]:
        """End the stats window now and return its metrics (also passed to `on_stats`)."""
        self.stats.close_period()
        metrics = self.metrics()
        metrics.update(self.stats.originated_metrics(), connectedPeersCount=len(metrics["connectedPeers"]))
        self.measures.reconnections = self.client.reconnections - self._reconnections_reported
        self._reconnections_reported = self.client.reconnections
        metrics.update(self.measures.take(time.monotonic()))
        metrics["harnessErrors"] = self.supervisor.errors - self._harness_errors_reported
        self._harness_errors_reported = self.supervisor.errors
        if self._on_stats is not None:
            self._on_stats(metrics)
        return metrics

    # ---- the network --------------------------------------------------------------------------

    async def update_network(self) -> None:
        """Run connection-policy steps until the mesh is as it should be (re-entrancy guarded)."""
        if self._updating or self.layer is None or self._disposed:
            return
        self._updating = True
        try:
            self._drop_old_unconnected()
            tried: set[str] = set()
            for _ in range(MAX_UPDATE_STEPS):
                operation = next_operation(self._view(tried), self.settings)
                if operation is None:
                    break
                if isinstance(operation, Connect):
                    tried.update(operation.peer_ids)
                    await asyncio.gather(*(self._connect_to(p) for p in operation.peer_ids))
                else:
                    for peer_id in operation.peer_ids:
                        await self._disconnect(peer_id)
        finally:
            self._updating = False

    def _view(self, tried: set[str]) -> MeshView:
        positions = {p: k.position for p in self.known.ids() if (k := self.known.get(p)) and k.position}
        mates = frozenset().union(*self.room_members.values()) if self.room_members else frozenset()
        candidates = [p for p in self.known.ids() if p not in self._connections and p not in tried and p != self.id]
        return MeshView(self.position, self.connected_ids(), candidates, positions, mates)

    def _drop_old_unconnected(self) -> None:
        cutoff = time.monotonic() - self.settings.old_connections_timeout
        for connection in list(self._connections.values()):
            if not connection.connected and connection.created < cutoff:
                self._spawn(connection.close())

    async def _connect_to(self, peer_id: str) -> None:
        """Offer a connection and wait `peer_connect_timeout` for it to open, else destroy it."""
        connection = self._new_connection(peer_id, _session_id(), initiator=True)
        try:
            offer = await connection.offer()
            self._impair(connection)
            self._signal(FrameType.OFFER, peer_id, self._handshake(connection, offer))
            await asyncio.wait_for(connection.opened.wait(), self.settings.peer_connect_timeout)
        except TimeoutError:
            log.info(
                "peer %s: connection to %s did not open in %.1f s", self.id, peer_id, self.settings.peer_connect_timeout
            )
        except Exception as exc:  # one failed offer must not end the network update of the others
            self.supervisor.report(f"connecting to {peer_id}", exc)
        finally:
            if not connection.connected:
                await connection.close()

    async def _disconnect(self, peer_id: str) -> None:
        connection = self._connections.get(peer_id)
        if connection is not None:
            await connection.close()

    async def _drop_all_connections(self) -> None:
        for connection in list(self._connections.values()):
            await connection.close()

    def _new_connection(self, peer_id: str, session_id: str, initiator: bool) -> PeerConnection:
        old = self._connections.get(peer_id)
        if old is not None:
            self._spawn(old.close())
        connection = PeerConnection(
            peer_id,
            session_id,
            initiator,
            self._rtc,
            self._data,
            self._closed,
            self._opened,
            self._connections_changed,
        )
        self._connections[peer_id] = connection
        self._connections_changed()
        return connection

    def _impair(self, connection: PeerConnection) -> None:
        """Put the connection's sockets behind this peer's impairment: its candidates are gathered and no
        ICE check has gone out yet (aiortc starts them in a task after `setLocalDescription`)."""
        if self.impairment is not None:
            self.impairment.attach(connection.pc)

    def _data(self, peer_id: str, data: bytes) -> None:
        if self.mesh is not None and (self.frame_filter is None or self.frame_filter(peer_id, data)):
            self.mesh.receive(peer_id, data)

    def _opened(self, connection: PeerConnection) -> None:
        assert connection.opened_at is not None
        self._connections_changed()
        self.measures.connect_setup.record((connection.opened_at - connection.created) * 1000)

    def _closed(self, connection: PeerConnection) -> None:
        if connection.opened_at is None and not connection.rejected and not self._disposed:
            self.measures.connection_failures += 1
        if self._connections.get(connection.remote_id) is connection:
            del self._connections[connection.remote_id]
            self._connections_changed()
            if self.mesh is not None:
                self.mesh.connection_lost(connection.remote_id)
            if not self._disposed:
                self._spawn(self.update_network())

    # ---- signaling ----------------------------------------------------------------------------

    def _handshake(self, connection: PeerConnection, sdp: Any) -> HandshakePayload:
        low, high = sorted((self.id, connection.remote_id))
        return HandshakePayload(
            sdp,
            connection.session_id,
            f"{low}_{high}_{connection.session_id}",
            PROTOCOL_VERSION,
            self.lighthouse_url,
            self.layer,
            tuple(self.position),
        )

    def _signal(self, frame_type: FrameType, dst: str, payload: Any) -> None:
        self.client.send(Frame(frame_type, self.id, dst, payload))

    def _reject(self, dst: str, session_id: str | None, reason: RejectReason) -> None:
        self._signal(FrameType.REJECT, dst, RejectPayload(session_id, reason.value))

    async def _signaling_worker(self) -> None:
        """Handle signaling frames one at a time, in arrival order."""
        while True:
            frame = await self._frames.get()
            try:
                await self._handle(frame)
            except ProtocolError as exc:
                self.bad_signaling += 1
                log.warning("peer %s: bad %s from %s: %s", self.id, frame.type.value, frame.src, exc)
            except Exception as exc:
                self.bad_signaling += 1
                self.supervisor.report(f"handling {frame.type.value} from {frame.src}", exc)

    async def _handle(self, frame: Frame) -> None:
        if frame.dst != self.id:
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
        if payload.lighthouse_url != self.lighthouse_url or payload.layer != self.layer:
            self._reject(src, payload.session_id, RejectReason.MUST_BE_IN_SAME_DOMAIN_AND_LAYER)
            return False
        return True

    async def _handle_offer(self, frame: Frame) -> None:
        assert frame.src is not None
        src, payload = frame.src, HandshakePayload.from_json(frame.payload)
        existing = self._connections.get(src)
        if existing is not None and existing.initiator and not existing.connected and self.id < src:
            return  # cross offers: the lower id stays the initiator
        if payload.position is not None:
            self.known.update_position(src, payload.position)
        if len(self.connected_ids()) >= self.settings.max_connections and not self._accept_over_max(src):
            self._reject(src, payload.session_id, RejectReason.TOO_MANY_CONNECTIONS)
            return
        if not self._check_handshake(src, payload):
            return
        self.known.ensure(src)
        connection = self._new_connection(src, payload.session_id, initiator=False)
        answer = await connection.answer(payload.sdp)
        self._impair(connection)
        self._signal(FrameType.ANSWER, src, self._handshake(connection, answer))
        if len(self.connected_ids()) >= self.settings.max_connections:
            self._spawn(self._delayed_update(self.settings.over_connected_update_delay))

    def _accept_over_max(self, src: str) -> bool:
        """At capacity, accept only an offerer nearer than our worst connection (then trim)."""
        view = self._view(set())
        offered = band(view, src, self.settings)
        bands = [b for b in (band(view, p, self.settings) for p in view.connected) if b is not None]
        return offered is not None and bool(bands) and offered <= max(bands)

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
        log.info("peer %s: %s rejected the connection: %s", self.id, frame.src, payload.reason)
        self.measures.rejects[str(payload.reason)] += 1
        connection = self._connections.get(frame.src)
        if connection is not None:
            connection.rejected = True
        await self._disconnect(frame.src)
        if payload.reason == RejectReason.MUST_BE_IN_SAME_DOMAIN_AND_LAYER:
            self.known.remove(frame.src)

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
        if payload.layer_id != self.layer:
            return
        for hint in payload.optimal_connections:
            if hint.id != self.id:
                self.known.update_position(hint.id, hint.position)
        await self.update_network()

    def _handle_notification(self, frame: Frame) -> None:
        payload = MembershipPayload.from_json(frame.payload)
        if payload.layer_id != self.layer or payload.id == self.id:
            return
        if frame.type is FrameType.PEER_JOINED_LAYER:
            self.known.ensure(payload.id)
            self._spawn(self.update_network())
        elif frame.type is FrameType.PEER_LEFT_LAYER:
            self.known.remove(payload.id)
            for members in self.room_members.values():
                members.discard(payload.id)
            self._spawn(self._disconnect(payload.id))
        elif frame.type is FrameType.PEER_JOINED_ROOM and payload.room_id is not None:
            self.room_members.setdefault(payload.room_id, set()).add(payload.id)
            self.known.ensure(payload.id)
        elif frame.type is FrameType.PEER_LEFT_ROOM and payload.room_id is not None:
            self.room_members.get(payload.room_id, set()).discard(payload.id)

    # ---- loops --------------------------------------------------------------------------------

    def _heartbeat_payload(self) -> HeartbeatPayload:
        now = time.monotonic()
        ask = now >= self._next_hint_request
        if ask:
            self._next_hint_request = now + self.settings.optimize_network_interval
        parcel = parcel_of(self.position) if len(self.position) == 3 else None
        return HeartbeatPayload(
            tuple(self.connected_ids()),
            tuple(self.position),
            parcel,
            True if ask else None,
            self.settings.target_connections if ask else None,
            self.settings.nearby_peers_distance if ask else None,
        )

    def _housekeeping(self) -> None:
        if self.mesh is not None:
            self.mesh.housekeeping()
        for peer_id in self.known.stale(self.settings.known_peer_expiry):
            self.known.remove(peer_id)
            self._spawn(self._disconnect(peer_id))

    async def _ping_round(self) -> None:
        if self.mesh is not None:
            round_ = self.mesh.send_ping()
            await asyncio.sleep(self.settings.ping_timeout)
            self.mesh.end_ping(round_)

    async def _delayed_update(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.update_network()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        if self._disposed:
            if asyncio.iscoroutine(coro):
                coro.close()
            return
        self.supervisor.spawn(coro, getattr(coro, "__qualname__", "a background task"))

    def _deliver(self, src: str, room: str, payload: Payload, packet: Packet) -> None:
        self._on_message(src, room, payload, packet)
