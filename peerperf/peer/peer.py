"""A peer of the mesh: the original peer library's `Peer`, over aiortc and a lighthouse.

It validates with the lighthouse, joins a layer and rooms (`Membership`), keeps
`target_connections` data channels open to the peers the connection policy picks (`network`,
`Connections`, `SignalingHandlers`), floods packets through them (`Mesh`), and counts what it sends
and receives (`GlobalStats`, `Measures`). This class wires those together and runs the peer's
loops; `dispose()` leaves no task, socket or connection behind.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from peerperf.errors import LighthouseUnavailable, PeerStateError, RequestError
from peerperf.peer.connections import Connections
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.impairment import Impairment, SignalingDelay
from peerperf.peer.impairment_profile import PeerImpairment
from peerperf.peer.knownpeers import KnownPeers, PositionDecoder
from peerperf.peer.lighthouse_client import LighthouseClient
from peerperf.peer.measures import Measures
from peerperf.peer.membership import Membership
from peerperf.peer.mesh import Mesh, MessageHandler, SendTime, packet_send_time
from peerperf.peer.network import Connect, MeshView, next_operation
from peerperf.peer.settings import PeerSettings
from peerperf.peer.signaling_handlers import SignalingHandlers
from peerperf.peer.stats import GlobalStats
from peerperf.peer.timer_phases import TimerPhases, first_firing
from peerperf.protocol.ids import is_valid_peer_id
from peerperf.protocol.messagetypes import MessageType
from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.positions import Position, parcel_of
from peerperf.protocol.signaling_frames import HeartbeatPayload
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

StatsHandler = Callable[[dict[str, Any]], None]
#: Most network-policy steps one update runs (each step consumes candidates, so this is a backstop).
MAX_UPDATE_STEPS = 50


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
        phases: TimerPhases | None = None,
    ) -> None:
        if peer_id is not None and not is_valid_peer_id(peer_id):
            raise ValueError(f"invalid peer id {peer_id!r}: letters, digits and inner ' _-' only")
        self.settings = settings or PeerSettings()
        #: When each periodic timer first fires (`TimerPhases`; none set: the original's one period in).
        self.phases = phases or TimerPhases()
        self.lighthouse_url = lighthouse_url
        self.position = position
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
        #: Runs the peer's loops and tasks (and its lighthouse client's): unexpected errors are logged and counted.
        self.supervisor = Supervisor(
            lambda: f"peer {self.client.peer_id}", expected=(RequestError, PeerStateError, LighthouseUnavailable)
        )
        self._harness_errors_reported = 0
        self._updating = False
        self._disposed = False
        self.signaling_delay = SignalingDelay(impairment) if impairment is not None and impairment.signaling else None
        self.client = LighthouseClient(
            lighthouse_url,
            peer_id,
            token or secrets.token_hex(8),
            self.settings,
            lambda frame: self.signaling.receive(frame),
            self._heartbeat_payload,
            self._rejoin,
            self._on_status,
            self.signaling_delay,
            self.supervisor,
            first_firing(self.phases.heartbeat, self.settings.heartbeat_interval),
        )
        self.connections = Connections(
            rtc_configuration(self.settings),
            self.measures,
            self._data,
            self._connection_lost,
            self._spawn,
            Impairment(impairment) if impairment is not None else None,
        )
        self.membership = Membership(self.client, self.known)
        self.signaling = SignalingHandlers(
            self.client,
            self.settings,
            self.connections,
            self.membership,
            self.known,
            self.measures,
            self.supervisor,
            lambda: self.position,
            lambda: self._view(set()),
            self.update_network,
            self._spawn,
        )
        hints = first_firing(self.phases.hint_request, self.settings.optimize_network_interval)
        self._next_hint_request = time.monotonic() + hints
        self.mesh: Mesh | None = None

    @property
    def id(self) -> str:
        assert self.client.peer_id is not None, "connect() first"
        return self.client.peer_id

    @property
    def layer(self) -> str | None:
        return self.membership.layer

    @property
    def rooms(self) -> set[str]:
        return self.membership.rooms

    @property
    def impairment(self) -> Impairment | None:
        """This peer's impaired network (None: a perfect one)."""
        return self.connections.impairment

    @property
    def bad_signaling(self) -> int:
        """Signaling frames that could not be handled."""
        return self.signaling.bad_frames

    async def connect(self) -> None:
        """Validate with the lighthouse and start the peer's loops."""
        use_host_addresses(self.settings.host_addresses)
        await self.client.connect()
        self.mesh = Mesh(
            self.id,
            self.connections,
            self.known,
            self.stats,
            self.settings,
            lambda: self.membership.rooms,
            self._on_message,
            self.measures,
            self._send_time,
        )
        self._spawn(self.signaling.run())
        self._start_timers()

    def _start_timers(self) -> None:
        """The peer's periodic loops, each first firing at its phase (`TimerPhases`); stats windows are
        not phased: they close together so that windows of different peers cover the same time."""
        settings, phases, repeat = self.settings, self.phases, self.supervisor.repeat
        housekeeping = settings.expiration_loop_interval
        repeat(housekeeping, self._housekeeping, "housekeeping", first_firing(phases.housekeeping, housekeeping))
        if settings.stats_update_interval > 0:
            repeat(settings.stats_update_interval, self.close_stats_window, "closing a stats window")
        if (update := settings.network_update_interval) > 0:
            repeat(update, self.update_network, "updating the network", first_firing(phases.network_update, update))
        if (interval := settings.ping_interval) is not None:
            # A round lasts ping_timeout after its ping, so rounds start every interval + timeout.
            first = first_firing(phases.ping, interval + settings.ping_timeout, interval)
            repeat(interval, self._ping_round, "pinging", first)

    async def set_layer(self, layer: str) -> None:
        """Join `layer`: its members become known peers; connections to another layer are dropped."""
        if self.membership.layer not in (None, layer):
            await self.connections.close_all()
            self.membership.leave_layer()
        await self.membership.join_layer(layer)
        self._spawn(self.update_network())

    async def join_room(self, room: str) -> None:
        """Join `room` of the current layer; packets for it are then delivered."""
        await self.membership.join_room(room)
        await self.update_network()

    async def leave_room(self, room: str) -> None:
        await self.membership.leave_room(room)

    def join_room_soon(self, room: str) -> None:
        """`join_room` without waiting (for routines, which cannot): the room counts at once, as the original
        pushes it before its lighthouse call; the call and the network update run in the background."""
        self.membership.add_room(room)
        self._spawn(self.join_room(room))

    def leave_room_soon(self, room: str) -> None:
        """`leave_room` without waiting: packets to `room` stop being delivered at once; the lighthouse is
        told in the background."""
        if self.membership.drop_room(room):
            self._spawn(self.membership.announce_leave(room))

    async def _rejoin(self) -> None:
        """After a lighthouse reconnection: join the layer and every room again (connections stay)."""
        await self.membership.rejoin()
        if self.membership.rooms:
            await self.update_network()

    async def dispose(self) -> None:
        """Stop everything: loops, connections, the lighthouse socket and HTTP session."""
        if self._disposed:
            return
        self._disposed = True
        await self.supervisor.close()
        await self.connections.dispose()
        await self.client.close()

    def send_message(self, room: str, payload: Payload, message_type: MessageType) -> Packet:
        assert self.mesh is not None, "connect() first"
        return self.mesh.send_message(room, payload, message_type)

    def set_peer_position(self, peer_id: str, position: Position) -> None:
        """Record where another peer is."""
        if peer_id != self.client.peer_id:
            self.known.update_position(peer_id, position)

    def set_peer_position_message(self, peer_id: str, payload: bytes, decode: PositionDecoder) -> None:
        """Record another peer's position message (the perf client does this for every one it receives);
        `decode` reads the position out of it only when the connection policy needs it."""
        if peer_id != self.client.peer_id:
            self.known.update_encoded_position(peer_id, payload, decode)

    def connected_ids(self) -> list[str]:
        """The peers with an open data channel."""
        return list(self.connections.connected_ids())

    def metrics(self) -> dict[str, Any]:
        """The original's submission body (reference section 3) for the last closed window."""
        body = self.stats.as_metrics()
        body["connectedPeers"] = self.connected_ids()
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
        metrics.update(self.stats.window_metrics())
        self.measures.reconnections = self.client.reconnections - self._reconnections_reported
        self._reconnections_reported = self.client.reconnections
        metrics.update(self.measures.take(time.monotonic()))
        metrics["silentLinks"] = self.connections.silent_links(time.monotonic())
        metrics["harnessErrors"] = self.supervisor.errors - self._harness_errors_reported
        self._harness_errors_reported = self.supervisor.errors
        if self._on_stats is not None:
            self._on_stats(metrics)
        return metrics

    async def update_network(self) -> None:
        """Run connection-policy steps until the mesh is as it should be (re-entrancy guarded)."""
        if self._updating or self.membership.layer is None or self._disposed:
            return
        self._updating = True
        try:
            self.connections.close_unconnected(self.settings.old_connections_timeout)
            tried: set[str] = set()
            for _ in range(MAX_UPDATE_STEPS):
                operation = next_operation(self._view(tried), self.settings)
                if operation is None:
                    break
                if isinstance(operation, Connect):
                    tried.update(operation.peer_ids)
                    await asyncio.gather(*(self.signaling.connect_to(p) for p in operation.peer_ids))
                else:
                    for peer_id in operation.peer_ids:
                        await self.connections.close(peer_id)
        finally:
            self._updating = False

    def _view(self, tried: set[str]) -> MeshView:
        positions = {p: k.position for p in self.known.ids() if (k := self.known.get(p)) and k.position}
        candidates = [p for p in self.known.ids() if p not in self.connections and p not in tried and p != self.id]
        return MeshView(
            self.position, self.connections.connected_ids(), candidates, positions, self.membership.room_mates()
        )

    def _data(self, peer_id: str, data: bytes) -> None:
        if self.mesh is not None and (self.frame_filter is None or self.frame_filter(peer_id, data)):
            self.mesh.receive(peer_id, data)

    def _connection_lost(self, peer_id: str) -> None:
        if self.mesh is not None:
            self.mesh.connection_lost(peer_id)
        self._spawn(self.update_network())

    def _heartbeat_payload(self) -> HeartbeatPayload:
        now = time.monotonic()
        ask = now >= self._next_hint_request
        if ask:
            self._next_hint_request = now + self.settings.optimize_network_interval
        parcel = parcel_of(self.position) if len(self.position) == 3 else None
        return HeartbeatPayload(
            tuple(self.connections.connected_ids()),
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
            self._spawn(self.connections.close(peer_id))

    async def _ping_round(self) -> None:
        if self.mesh is not None:
            round_ = self.mesh.send_ping()
            await asyncio.sleep(self.settings.ping_timeout)
            self.mesh.end_ping(round_)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        if self._disposed:
            if asyncio.iscoroutine(coro):
                coro.close()
            return
        self.supervisor.spawn(coro, getattr(coro, "__qualname__", "a background task"))
