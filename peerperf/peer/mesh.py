"""Packets through the mesh (reference 2.5-2.8): sending, relaying, duplicate and expiry logic, pings.

The mesh works on a `Links` view of the data channels (who is connected, send bytes to one of
them), so the relay rules are tested without WebRTC and run unchanged over aiortc.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from peerperf.errors import PeerStateError, ProtocolError
from peerperf.peer.knownpeers import KnownPeer, KnownPeers, SubtypeData
from peerperf.peer.measures import Measures
from peerperf.peer.settings import PeerSettings
from peerperf.peer.stats import GlobalStats
from peerperf.protocol.messagetypes import PING, PONG, SUSPEND_RELAY, MessageType
from peerperf.protocol.packets import Packet, Payload, build_packet, decode_packet, decode_payload, encode_payload
from peerperf.protocol.packets import packet_key as key_of
from peerperf.protocol.wallclock import now_ms, now_ms_int

log = logging.getLogger(__name__)

#: How long a relay path to a source counts as usable (B's KNOWN_PEER_RELAY_EXPIRE_TIME).
RELAY_PATH_EXPIRY = 30.0

#: Called for each packet delivered to a joined room: (src, room, payload, packet).
MessageHandler = Callable[[str, str, Payload, Packet], None]
#: When the sender sent an app message, in wall-clock ms: by default the packet's timestamp; an
#: application whose payload carries a finer send time (the perf client's CommsMessage.time) reads it.
SendTime = Callable[[Payload, Packet], float]


def packet_send_time(payload: Payload, packet: Packet) -> float:
    return float(packet.timestamp)


class Links(Protocol):
    """The data channels a mesh sends on."""

    def connected_ids(self) -> list[str]: ...

    def send(self, peer_id: str, data: bytes) -> None: ...


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
        stats: GlobalStats,
        settings: PeerSettings,
        rooms: Callable[[], set[str]],
        on_message: MessageHandler,
        measures: Measures | None = None,
        send_time: SendTime = packet_send_time,
    ) -> None:
        self.peer_id = peer_id
        self.instance_id = random.getrandbits(32)
        self._links = links
        self._known = known
        self._stats = stats
        self._settings = settings
        self._rooms = rooms
        self._on_message = on_message
        self.measures = measures or Measures()
        self._send_time = send_time
        self._sequence = 0
        #: Packet key -> monotonic time its duplicate record expires.
        self._received: dict[str, float] = {}
        self._pings: dict[int, PingRound] = {}
        #: Connection -> source -> until: do not relay that source's packets to that connection.
        self._own_suspended: dict[str, dict[str, float]] = {}
        #: Connection -> source -> until: what we asked that connection to stop relaying.
        self._their_suspended: dict[str, dict[str, float]] = {}
        self._pending_suspensions: dict[str, list[str]] = {}
        self._last_suspension_request: dict[str, float] = {}
        #: Source -> connection -> (hops, when) it was last seen through that connection.
        self._reachable: dict[str, dict[str, tuple[int, float]]] = {}
        self.bad_frames = 0

    # ---- sending ------------------------------------------------------------------------------

    def new_packet(self, message_type: MessageType, expire_time: int | None = None) -> Packet:
        self._sequence += 1
        return build_packet(
            message_type,
            src=self.peer_id,
            sequence_id=self._sequence,
            instance_id=self.instance_id,
            timestamp_ms=now_ms_int(),
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
        round_ = PingRound(ping_id, time.monotonic())
        self._pings[ping_id] = round_
        self._send(packet)
        return round_

    def end_ping(self, round_: PingRound) -> dict[str, float]:
        self._pings.pop(round_.ping_id, None)
        return round_.latencies

    def _send(self, packet: Packet, only: list[str] | None = None) -> None:
        """The original's `sendPacket`: to connected peers not in `receivedBy` (or to `only`)."""
        if self.peer_id not in packet.receivedBy:
            packet.receivedBy.append(self.peer_id)
        already = set(packet.receivedBy)
        now = time.monotonic()
        candidates = self._links.connected_ids() if only is None else only
        targets = [
            t
            for t in candidates
            if t not in already and not (packet.hops > 0 and self._own_suspended.get(t, {}).get(packet.src, 0) > now)
        ]
        if packet.optimistic:
            packet.receivedBy.extend(targets)
        data = packet.SerializeToString()
        relayed = packet.hops > 0
        if not relayed:
            self._stats.count_originated(len(data), packet.subtype)
            if packet.ttl <= 1:
                self.measures.originated_one_hop += 1
            elif packet.HasField("messageData"):
                self.measures.originated[packet.subtype] += 1
        for target in targets:
            self._links.send(target, data)
            self._stats.count_sent(len(data), relayed, packet.subtype)

    # ---- receiving ----------------------------------------------------------------------------

    def receive(self, from_peer: str, data: bytes) -> None:
        """Process one data-channel frame from `from_peer`; malformed frames are counted and dropped."""
        try:
            packet = decode_packet(data)
        except ProtocolError as exc:
            self.bad_frames += 1
            log.warning("peer %s: dropped a frame from %s: %s", self.peer_id, from_peer, exc)
            return
        now = time.monotonic()
        first = packet.src != self.peer_id and self.measures.delivery.observe(
            packet.src, packet.instanceId, packet.sequenceId, now
        )
        key = key_of(packet)
        duplicate = key in self._received
        source = self._known.ensure(packet.src)
        self._reachable.setdefault(packet.src, {})[from_peer] = (packet.hops + 1, now)
        if packet.discardOlderThan != 0:
            self._received[key] = now + self._expiration_ms(packet) / 1000
        expired = self._is_expired(packet, source)
        relevant = packet.WhichOneof("data") != "messageData" or packet.messageData.room in self._rooms()
        tags = [tag for tag, on in (("duplicate", duplicate), ("expired", expired), ("relevant", relevant)) if on]
        self._stats.count_received(len(data), tags, packet.subtype)
        if duplicate or expired:
            if expired and first:
                self.measures.arrived_expired += 1
            self._request_relay_suspension(packet.src, from_peer)
            return
        self._record_news(source, packet, now)
        packet.hops += 1
        if packet.hops < packet.ttl:
            self._send(packet)
        self._act_on(packet, from_peer, first)

    def _expiration_ms(self, packet: Packet) -> float:
        return packet.expireTime if packet.expireTime > 0 else self._settings.message_expiration_time * 1000

    def _is_expired(self, packet: Packet, source: KnownPeer) -> bool:
        if packet.discardOlderThan >= 0 and packet.subtype:
            newest = source.subtypes.get(packet.subtype)
            if (
                newest is not None
                and newest.last_timestamp - packet.timestamp > packet.discardOlderThan
                and newest.last_sequence_id >= packet.sequenceId
            ):
                return True
        return source.timestamp is not None and source.timestamp - packet.timestamp > self._expiration_ms(packet)

    @staticmethod
    def _record_news(source: KnownPeer, packet: Packet, now: float) -> None:
        source.timestamp = max(source.timestamp or 0, packet.timestamp)
        source.last_updated = now
        newest = source.subtypes.get(packet.subtype)
        if newest is None:
            source.subtypes[packet.subtype] = SubtypeData(packet.timestamp, packet.sequenceId)
        else:
            newest.last_timestamp = max(newest.last_timestamp, packet.timestamp)
            newest.last_sequence_id = max(newest.last_sequence_id, packet.sequenceId)

    def _act_on(self, packet: Packet, from_peer: str, first: bool) -> None:
        kind = packet.WhichOneof("data")
        if kind == "messageData":
            if packet.messageData.room in self._rooms():
                try:
                    payload = decode_payload(packet.messageData)
                except ProtocolError as exc:
                    self.bad_frames += 1
                    log.warning("peer %s: undecodable payload from %s: %s", self.peer_id, packet.src, exc)
                    return
                if first:  # the original may deliver a second copy of the newest unreliable packet
                    self.measures.record_delivery(packet.subtype, packet.hops)
                    latency = now_ms() - self._send_time(payload, packet)
                    self.measures.record_latency(packet.subtype, latency)
                self._on_message(packet.src, packet.messageData.room, payload, packet)
        elif kind == "pingData":
            pong = self.new_packet(PONG, expire_time=int(self._settings.ping_timeout * 1000))
            pong.pongData.pingId = packet.pingData.pingId
            self._send(pong)
        elif kind == "pongData":
            round_ = self._pings.get(packet.pongData.pingId)
            if round_ is not None:
                latency = (time.monotonic() - round_.started) * 1000
                round_.latencies[packet.src] = latency
                self._known.ensure(packet.src).latency = latency
        elif kind == "suspendRelayData" and from_peer in self._links.connected_ids():
            until = time.monotonic() + packet.suspendRelayData.durationMillis / 1000
            suspended = self._own_suspended.setdefault(from_peer, {})
            for src in packet.suspendRelayData.relayedPeers:
                suspended[src] = until

    # ---- relay suspension (B) -----------------------------------------------------------------

    def _request_relay_suspension(self, src: str, via: str) -> None:
        interval = self._settings.relay_suspension_interval
        if interval is None:
            return
        now = time.monotonic()
        pending = self._pending_suspensions.setdefault(via, [])
        if src not in pending:
            connected = set(self._links.connected_ids())
            relays = [
                r
                for r, (_, seen) in self._reachable.get(src, {}).items()
                if r in connected
                and now - seen < RELAY_PATH_EXPIRY
                and self._their_suspended.get(r, {}).get(src, 0) <= now
                and src not in self._pending_suspensions.get(r, [])
            ]
            if len(relays) > 1 or (len(relays) == 1 and relays[0] != via):
                pending.append(src)  # at least one other path to src remains
        last = self._last_suspension_request.get(via)
        if last is None:
            self._last_suspension_request[via] = now  # the original skips the first opportunity
        elif now - last > interval:
            packet = self.new_packet(SUSPEND_RELAY)
            packet.suspendRelayData.relayedPeers.extend(pending)
            packet.suspendRelayData.durationMillis = int(self._settings.relay_suspension_duration * 1000)
            self._send(packet, only=[via])
            theirs = self._their_suspended.setdefault(via, {})
            for suspended_src in pending:
                theirs[suspended_src] = now + self._settings.relay_suspension_duration
            pending.clear()
            self._last_suspension_request[via] = now

    # ---- housekeeping -------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """The 2 s loop: forget expired packet ids, suspensions and relay paths."""
        now = time.monotonic()
        self._received = {k: until for k, until in self._received.items() if until > now}
        for table in (self._own_suspended, self._their_suspended):
            for conn in list(table):
                table[conn] = {s: until for s, until in table[conn].items() if until > now}
        for src in list(self._reachable):
            paths = {c: v for c, v in self._reachable[src].items() if now - v[1] < RELAY_PATH_EXPIRY}
            if paths:
                self._reachable[src] = paths
            else:
                del self._reachable[src]

    def connection_lost(self, peer_id: str) -> None:
        """Drop all relay data about a connection that closed."""
        for table in (
            self._own_suspended,
            self._their_suspended,
            self._pending_suspensions,
            self._last_suspension_request,
        ):
            table.pop(peer_id, None)
        for paths in self._reachable.values():
            paths.pop(peer_id, None)

    def relay_suspended(self, via: str, src: str) -> bool:
        """Whether `via` asked us not to relay `src`'s packets to it right now."""
        return self._own_suspended.get(via, {}).get(src, 0) > time.monotonic()
