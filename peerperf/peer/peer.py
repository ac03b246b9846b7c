"""A peer of the mesh: the original peer library's `Peer`, over aiortc and a lighthouse.

It validates with the lighthouse (`Heartbeat`), joins a layer and rooms (`Membership`), keeps
`target_connections` data channels open to the peers the connection policy picks (`NetworkUpdates`,
`Connections`, `SignalingHandlers`), floods packets through them (`Mesh`) and reports each window
(`StatsWindows`). This class wires those together and runs the peer's loops; `dispose()` leaves no
task, socket or connection behind.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from peerperf.errors import LighthouseUnavailable, PeerStateError, RequestError
from peerperf.peer.connections import Connections
from peerperf.peer.delivery_metrics import DeliveryMetrics
from peerperf.peer.heartbeat import Heartbeat
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.impairment import Impairment, SignalingDelay
from peerperf.peer.impairment_profile import PeerImpairment
from peerperf.peer.knownpeers import KnownPeers, PositionDecoder
from peerperf.peer.lighthouse_client import LighthouseClient
from peerperf.peer.membership import Membership
from peerperf.peer.mesh import Mesh
from peerperf.peer.mesh_interfaces import MessageHandler, SendTime, packet_send_time
from peerperf.peer.network_updates import NetworkUpdates
from peerperf.peer.packet_counts import GlobalPacketCounts
from peerperf.peer.settings import PeerSettings
from peerperf.peer.signaling_handlers import SignalingHandlers
from peerperf.peer.stats_windows import StatsWindows, impairment_metrics
from peerperf.peer.timer_phases import TimerPhases, first_firing
from peerperf.protocol.ids import is_valid_peer_id
from peerperf.protocol.messagetypes import MessageType
from peerperf.protocol.packets import Packet, Payload
from peerperf.protocol.positions import Position
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)


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
        on_stats: Callable[[dict[str, Any]], None] | None = None,
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
        #: Who it knows of, what it sent and received (the original's stats), what it measured of delivery.
        self.known, self.stats, self.measures = KnownPeers(), GlobalPacketCounts(), DeliveryMetrics()
        self._send_time = send_time
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
        self._disposed = False
        self.heartbeat = Heartbeat(self.settings, self.phases, lambda: self.connections.connected_ids())
        self.signaling_delay = SignalingDelay(impairment) if impairment is not None and impairment.signaling else None
        self.client = LighthouseClient(
            lighthouse_url,
            peer_id,
            token or secrets.token_hex(8),
            self.settings,
            lambda frame: self.signaling.receive(frame),
            lambda: self.heartbeat.payload(self.position),
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
            lambda: self.updates.view(set()),
            self.update_network,
            self._spawn,
        )
        self.mesh: Mesh | None = None
        self.updates = NetworkUpdates(
            self.settings,
            self.known,
            self.connections,
            self.membership,
            self.signaling.connect_to,
            lambda: self.position,
            lambda: self.id,
        )
        self.windows = StatsWindows(
            self.stats, self.measures, self.known, self.connections, self.client, self.supervisor
        )

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
        return self.windows.body(self.position)

    def impairment_metrics(self) -> dict[str, Any]:
        """The `impairment` profile name ("" for none) and, when impaired, the datagram counters."""
        return impairment_metrics(self.impairment)

    def close_stats_window(self) -> dict[str, Any]:
        """End the stats window now and return its metrics (also passed to `on_stats`)."""
        metrics = self.windows.close(self.position)
        if self._on_stats is not None:
            self._on_stats(metrics)
        return metrics

    async def update_network(self) -> None:
        """Run connection-policy steps until the mesh is as it should be (re-entrancy guarded)."""
        if self.membership.layer is not None and not self._disposed:
            await self.updates.run()

    def _data(self, peer_id: str, data: bytes) -> None:
        if self.mesh is not None and (self.frame_filter is None or self.frame_filter(peer_id, data)):
            self.mesh.receive(peer_id, data)

    def _connection_lost(self, peer_id: str) -> None:
        if self.mesh is not None:
            self.mesh.connection_lost(peer_id)
        self._spawn(self.update_network())

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
