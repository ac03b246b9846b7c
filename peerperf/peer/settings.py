"""Every option of the peer library (reference 2.11), typed and documented, with the original's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.errors import ConfigError
from peerperf.protocol.positions import DEFAULT_DISTANCE_INTERVALS
from peerperf.settings import setting

#: The receive paths a peer's data channels can run (peerperf/peer/fast_path.py): aiortc's own, or the
#: shorter Python one, which falls back to aiortc's when aiortc's internals are not the pinned ones.
STOCK_DATA_PATH = "stock"
PYTHON_FAST_DATA_PATH = "python-fast"
COMPILED_DATA_PATH = "compiled"
DATA_PATHS = (STOCK_DATA_PATH, PYTHON_FAST_DATA_PATH, COMPILED_DATA_PATH)


@dataclass(frozen=True)
class PeerSettings:
    """Configuration of one simulated peer. Times are seconds unless the name says otherwise."""

    target_connections: int = setting(4, "connections a peer tries to keep")
    max_connections: int = setting(7, "connections above which the worst are dropped")
    peer_connect_timeout: float = setting(3.5, "a connection not open after this is destroyed", unit="s")
    old_connections_timeout: float = setting(
        35.0, "unconnected connections older than this are dropped (the original: peer_connect_timeout x 10)", unit="s"
    )
    message_expiration_time: float = setting(
        10.0, "how long packet ids are remembered for duplicate detection when a packet sets no expireTime", unit="s"
    )
    reconnection_attempts: int = setting(10, "lighthouse reconnection attempts before giving up")
    backoff: float = setting(2.0, "wait between reconnection attempts: backoff + random(0..backoff)", unit="s")
    optimize_network_interval: float = setting(30.0, "how often a heartbeat asks for connection hints", unit="s")
    heartbeat_interval: float = setting(5.0, "HEARTBEAT period", unit="s")
    network_update_interval: float = setting(
        5.0,
        "periodic re-evaluation of connections (the original only "
        "re-evaluated on events and could stay under target); 0 disables",
        unit="s",
    )
    stats_update_interval: float = setting(
        1.0, "stats window length; 0 leaves closing windows to the caller (`close_stats_window`)", unit="s"
    )
    ping_interval: float | None = setting(
        None, "pause between pings (a round lasts ping_timeout more); unset or 'off': no pings", unit="s"
    )
    ping_timeout: float = setting(7.0, "pings and pongs expire and results are collected after this", unit="s")
    known_peer_expiry: float = setting(90.0, "known peers silent for this long are forgotten", unit="s")
    expiration_loop_interval: float = setting(2.0, "housekeeping period (packet ids, known peers)", unit="s")
    over_connected_update_delay: float = setting(0.5, "network update delay after accepting an offer at max", unit="s")
    connect_wait: float = setting(10.0, "how long to wait for the lighthouse's VALIDATION_OK", unit="s")
    nearby_peers_distance: float = setting(80.0, "maxDistance sent with hint requests", unit="world units")
    distance_intervals: tuple[float, ...] = setting(
        DEFAULT_DISTANCE_INTERVALS, "bands of the discretized distance peers rank by"
    )
    max_connection_distance: float | None = setting(
        None, "(B) only connect to peers this near or in a shared room", unit="world units"
    )
    disconnect_distance: float | None = setting(
        None, "(B) drop connections this far that share no room", unit="world units"
    )
    relay_suspension_interval: float | None = setting(
        None, "(B) minimum gap between suspend-relay requests; unset disables requesting", unit="s"
    )
    relay_suspension_duration: float = setting(5.0, "(B) how long a requested relay suspension lasts", unit="s")
    auth_secret: str | None = setting(
        None,
        "sign the lighthouse challenge with HMAC-SHA256 of this key; "
        "unset sends the challenge back (NO_AUTH lighthouses)",
    )
    ice_servers: tuple[str, ...] = setting((), "STUN/TURN URLs (none needed on loopback or inside one network)")
    ice_username: str | None = setting(None, "username for TURN servers")
    ice_credential: str | None = setting(None, "credential for TURN servers")
    host_addresses: tuple[str, ...] = setting(
        ("127.0.0.1",),
        "addresses offered as ICE host candidates: loopback locally, the node's cluster address on a cluster",
    )
    sctp_tuning: bool = setting(
        True,
        "delayed SACK, chunk bundling and one flush per loop turn on the data channels' SCTP "
        "(RFC 4960, same wire format; peerperf/peer/sctp_tuning.py); off runs stock aiortc",
    )
    # Stock by default until a whole direction of a link that went silent in staged and 3-peer runs under load
    # (python-fast and compiled, not yet seen on stock) is explained: the faster paths are opt-in meanwhile.
    # Runs flag such a link on any path now (`silentLinks`, peer/connections.py), so evidence accumulates.
    data_path: str = setting(
        STOCK_DATA_PATH,
        "receive path of the data channels: compiled (python-fast with the SCTP steady state checked and "
        "parsed in one C call; peerperf/peer/compiled_path.py; python-fast when the C extension is not built), "
        "python-fast (DTLS application data from the socket through "
        "OpenSSL to SCTP in one synchronous call, same wire; peerperf/peer/fast_path.py; stock when aiortc's "
        "internals are not the pinned ones) or stock (aiortc's own)",
    )

    def __post_init__(self) -> None:
        if self.data_path not in DATA_PATHS:
            raise ConfigError(f"data_path must be one of {', '.join(DATA_PATHS)}, got {self.data_path!r}")
        if not 0 < self.target_connections <= self.max_connections:
            raise ConfigError(
                f"need 0 < target_connections <= max_connections, got {self.target_connections} and "
                f"{self.max_connections}"
            )
