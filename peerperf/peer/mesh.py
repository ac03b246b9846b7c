"""Packets through the mesh (reference 2.5-2.8): sending, relaying, duplicate and expiry logic, pings.

The mesh works on a `Links` view of the data channels (who is connected, send bytes to one of
them), so the relay rules are tested without WebRTC and run unchanged over aiortc.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from peerperf.errors import PeerStateError, ProtocolError
from peerperf.peer.delivery_metrics import DeliveryMetrics
from peerperf.peer.knownpeers import KnownPeers, SubtypeData
from peerperf.peer.mesh_interfaces import SYSTEM_CLOCK, Links, MeshClock, MessageHandler, SendTime, packet_send_time
from peerperf.peer.packet_counts import GlobalPacketCounts
from peerperf.peer.relay_suspension import NOTHING_SUSPENDED, RelaySuspension
from peerperf.peer.settings import PeerSettings
from peerperf.protocol.messagetypes import PING, PONG, SUSPEND_RELAY, MessageType
from peerperf.protocol.packets import (
    Packet,
    Payload,
    build_packet,
    decode_packet,
    decode_payload,
    encode_payload,
)

log = logging.getLogger(__name__)


@dataclass
class PingRound:
    """One ping and the pongs collected for it."""

    ping_id: int
    started: float
    latencies: dict[str, float] = field(default_factory=dict)


class Mesh:
    """The packet layer of one peer."""

    def __init__(
        self,
        peer_id: str,
        links: Links,
        known: KnownPeers,
        stats: GlobalPacketCounts,
        settings: PeerSettings,
        rooms: Callable[[], set[str]],
        on_message: MessageHandler,
        measures: DeliveryMetrics | None = None,
        send_time: SendTime = packet_send_time,
        clock: MeshClock = SYSTEM_CLOCK,
    ) -> None:
        self.peer_id = peer_id
        self.instance_id = random.getrandbits(32)
        self._links = links
        self._known = known
        self._stats = stats
        self._settings = settings
        self._rooms = rooms
        self._on_message = on_message
        self.measures = measures or DeliveryMetrics()
        self._send_time = send_time
        self._monotonic = clock.monotonic
        self._wall_ms = clock.wall_ms
        self._default_expiration_ms = settings.message_expiration_time * 1000
        self._sequence = 0
        #: Packet key (src, instanceId, sequenceId) -> monotonic time its duplicate record expires.
        self._received: dict[tuple[str, int, int], float] = {}
        self._pings: dict[int, PingRound] = {}
        self.relays = RelaySuspension(settings.relay_suspension_interval, settings.relay_suspension_duration)
        # The per-packet paths read these two tables directly (never rebound).
        self._own_suspended = self.relays.own
        self._reachable = self.relays.reachable
        self.bad_frames = 0

    # ---- sending ------------------------------------------------------------------------------

    def new_packet(self, message_type: MessageType, expire_time: int | None = None) -> Packet:
        self._sequence += 1
        return build_packet(
            message_type,
            src=self.peer_id,
            sequence_id=self._sequence,
            instance_id=self.instance_id,
            timestamp_ms=self.measures.windows.stamp(self._wall_ms()),
            expire_time=expire_time,
        )

    def send_message(self, room: str, payload: Payload, message_type: MessageType) -> Packet:
        """Originate an app message to `room`; the room must be joined."""
        if room not in self._rooms():
            raise PeerStateError(f"peer {self.peer_id} has not joined room {room!r}")
        packet = self.new_packet(message_type)
        data, encoding = encode_payload(payload)
        packet.messageData.room = room
        packet.messageData.payload = data
        packet.messageData.encoding = encoding
        self._send(packet)
        return packet

    def send_ping(self) -> PingRound:
        """Broadcast a ping; pongs collected until `end_ping`."""
        ping_id = random.getrandbits(32)
        packet = self.new_packet(PING, expire_time=int(self._settings.ping_timeout * 1000))
        packet.pingData.pingId = ping_id
        round_ = PingRound(ping_id, self._monotonic())
        self._pings[ping_id] = round_
        self.measures.ping_rounds += 1
        self._send(packet)
        return round_

    def end_ping(self, round_: PingRound) -> dict[str, float]:
        self._pings.pop(round_.ping_id, None)
        return round_.latencies

    def _send(self, packet: Packet, only: Sequence[str] | None = None) -> None:
        """The original's `sendPacket`: to connected peers not in `receivedBy` (or to `only`).

        A relayed packet with nobody left to send to is not serialised again.
        """
        received_by = packet.receivedBy
        already = set(received_by[:])  # one read of the repeated field (a slice is its cheapest copy)
        if self.peer_id not in already:
            received_by.append(self.peer_id)
            already.add(self.peer_id)
        candidates = self._links.connected_ids() if only is None else only
        relayed = packet.hops > 0
        if relayed and self._own_suspended:
            now, src, suspended = self._monotonic(), packet.src, self._own_suspended
            targets = [
                t for t in candidates if t not in already and suspended.get(t, NOTHING_SUSPENDED).get(src, 0) <= now
            ]
        else:
            targets = [t for t in candidates if t not in already]
        if relayed and not targets:
            return
        if packet.optimistic:
            received_by.extend(targets)
        data = packet.SerializeToString()
        if not relayed:
            self._stats.count_originated(len(data), packet.subtype)
            if packet.ttl <= 1:
                self.measures.originated_one_hop += 1
            else:
                app = packet.HasField("messageData")
                if app:
                    self.measures.originated[packet.subtype] += 1
                self.measures.windows.created(packet.timestamp, packet.subtype if app else None)
        if targets:
            send = self._links.send
            for target in targets:
                send(target, data)
            self._stats.count_sent(len(data), relayed, packet.subtype, len(targets))

    # ---- receiving ----------------------------------------------------------------------------

    def receive(self, from_peer: str, data: bytes) -> None:
        """Process one data-channel frame from `from_peer`; malformed frames are counted and dropped.

        Runs for every packet: the fields it needs are read from the protobuf once and passed down,
        and the per-packet bookkeeping is done inline (each call costs more than the work it does).
        """
        try:
            packet = decode_packet(data)
        except ProtocolError as exc:
            self.bad_frames += 1
            log.warning("peer %s: dropped a frame from %s: %s", self.peer_id, from_peer, exc)
            return
        src, subtype, timestamp, sequence = packet.src, packet.subtype, packet.timestamp, packet.sequenceId
        discard_older_than = packet.discardOlderThan
        expire_time = packet.expireTime
        expiration_ms = expire_time if expire_time > 0 else self._default_expiration_ms
        kind = packet.WhichOneof("data")
        now = self._monotonic()
        first = src != self.peer_id and self.measures.delivery.observe(src, packet.instanceId, sequence, now)
        if first and packet.ttl > 1:
            self.measures.windows.first_arrival(timestamp)
        duplicate = False
        if discard_older_than != 0:  # only these are remembered, so only these can be duplicates
            key = (src, packet.instanceId, sequence)  # the original's `src_instanceId_sequenceId`
            received = self._received
            duplicate = key in received
            received[key] = now + expiration_ms / 1000
        source = self._known.ensure(src)
        paths = self._reachable.get(src)
        if paths is None:
            paths = self._reachable[src] = {}
        paths[from_peer] = now
        newest = source.subtypes.get(subtype)
        expired = (
            discard_older_than >= 0
            and subtype != ""
            and newest is not None
            and newest.last_timestamp - timestamp > discard_older_than
            and newest.last_sequence_id >= sequence
        ) or (source.timestamp is not None and source.timestamp - timestamp > expiration_ms)
        relevant = kind != "messageData" or packet.messageData.room in self._rooms()
        self._stats.count_received(len(data), subtype, duplicate, expired, relevant)
        if duplicate or expired:
            if expired and first:
                self.measures.arrived_expired += 1
            self._request_relay_suspension(src, from_peer)
            return
        # the news: the newest timestamp and sequence seen from this source, per subtype
        if source.timestamp is None or timestamp > source.timestamp:
            source.timestamp = timestamp
        source.last_updated = now
        if newest is None:
            source.subtypes[subtype] = SubtypeData(timestamp, sequence)
        else:
            if timestamp > newest.last_timestamp:
                newest.last_timestamp = timestamp
            if sequence > newest.last_sequence_id:
                newest.last_sequence_id = sequence
        hops = packet.hops + 1
        packet.hops = hops
        if hops < packet.ttl:
            self._send(packet)
        if kind == "messageData":
            if relevant:
                self._deliver(packet, src, subtype, hops, first)
        elif kind is not None:
            self._act_on(packet, kind, from_peer)

    def _deliver(self, packet: Packet, src: str, subtype: str, hops: int, first: bool) -> None:
        """Hand an app message of a joined room to the application."""
        data = packet.messageData
        try:
            payload = decode_payload(data)
        except ProtocolError as exc:
            self.bad_frames += 1
            log.warning("peer %s: undecodable payload from %s: %s", self.peer_id, src, exc)
            return
        if first:  # the original may deliver a second copy of the newest unreliable packet
            self.measures.record_arrival(subtype, hops, self._wall_ms() - self._send_time(payload, packet))
            self.measures.windows.delivered(packet.timestamp, subtype)
        self._on_message(src, data.room, payload, packet)

    def _act_on(self, packet: Packet, kind: str, from_peer: str) -> None:
        """The mesh's own packets: pings, pongs and relay suspensions."""
        if kind == "pingData":
            pong = self.new_packet(PONG, expire_time=int(self._settings.ping_timeout * 1000))
            pong.pongData.pingId = packet.pingData.pingId
            self._send(pong)
        elif kind == "pongData":
            round_ = self._pings.get(packet.pongData.pingId)
            if round_ is not None:
                latency = (self._monotonic() - round_.started) * 1000
                round_.latencies[packet.src] = latency
                self._known.ensure(packet.src).latency = latency
        elif kind == "suspendRelayData" and from_peer in self._links.connected_ids():
            request = packet.suspendRelayData
            self.relays.honour(from_peer, request.relayedPeers, self._monotonic() + request.durationMillis / 1000)

    # ---- relay suspension (B) -----------------------------------------------------------------

    def _request_relay_suspension(self, src: str, via: str) -> None:
        sources = self.relays.due_request(src, via, self._monotonic(), self._links.connected_ids())
        if sources is not None:
            packet = self.new_packet(SUSPEND_RELAY)
            packet.suspendRelayData.relayedPeers.extend(sources)
            packet.suspendRelayData.durationMillis = int(self.relays.duration * 1000)
            self._send(packet, only=[via])

    # ---- housekeeping -------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """The 2 s loop: forget expired packet ids, suspensions and relay paths."""
        now = self._monotonic()
        self._received = {k: until for k, until in self._received.items() if until > now}
        self.relays.expire(now)

    def connection_lost(self, peer_id: str) -> None:
        """Drop all relay data about a connection that closed."""
        self.relays.forget(peer_id)

    def relay_suspended(self, via: str, src: str) -> bool:
        """Whether `via` asked us not to relay `src`'s packets to it right now."""
        return self.relays.suspended(via, src, self._monotonic())
