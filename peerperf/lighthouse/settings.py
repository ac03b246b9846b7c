"""Every lighthouse parameter, declared once (flags and env vars are generated from this)."""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.errors import ConfigError
from peerperf.protocol.ids import ASSIGNED_ID_ALPHABET
from peerperf.settings import setting

#: The original's `default_layers.ts`: pre-created layers that are never deleted.
BUILTIN_LAYERS = (
    "amber",
    "beige",
    "black",
    "blue",
    "brown",
    "crimson",
    "cyan",
    "diamond",
    "emerald",
    "gold",
    "green",
    "grey",
    "honey",
    "indigo",
    "jade",
    "khaki",
    "lavender",
    "lime",
    "magenta",
    "navy",
    "olive",
    "orange",
    "pink",
    "purple",
    "quartz",
    "red",
    "ruby",
    "salmon",
    "sapphire",
    "scarlet",
    "silver",
    "teal",
    "turquoise",
    "ultramarine",
    "violet",
    "white",
    "yellow",
    "xanthic",
    "zaffre",
)


@dataclass(frozen=True)
class LighthouseSettings:
    """Configuration of one lighthouse process."""

    host: str = setting("127.0.0.1", "address to listen on", env="LIGHTHOUSE_HOST")
    port: int = setting(
        9000, "HTTP and WebSocket port (0 picks a free one)", env="LIGHTHOUSE_PORT", fallback_env="PORT"
    )
    name: str = setting("peerperf", "name reported by GET /status", env="LIGHTHOUSE_NAME")
    no_auth: bool = setting(False, "accept any VALIDATION payload", env="NO_AUTH")
    secret: str = setting(
        "", "HMAC-SHA256 key peers sign the challenge with (needed unless NO_AUTH)", env="LIGHTHOUSE_SECRET"
    )
    max_per_layer: int = setting(
        50, "peers one layer holds; the 51st is refused (the original's default)", env="MAX_PER_LAYER"
    )
    default_layers: tuple[str, ...] = setting(BUILTIN_LAYERS, "pre-created layers, never deleted", env="DEFAULT_LAYERS")
    secure: bool = setting(False, "only echoed in GET /status env.secure", env="SECURE")
    commit_hash: str = setting("", "echoed in GET /status env.commitHash", env="COMMIT_HASH")
    id_alphabet: str = setting(ASSIGNED_ID_ALPHABET, "alphabet of server-assigned ids", env="ID_ALPHABET")
    id_length: int = setting(2, "length of server-assigned ids", env="ID_LENGTH")
    alive_timeout: float = setting(
        60.0, "drop a client this long after its last HEARTBEAT", env="ALIVE_TIMEOUT", unit="s"
    )
    liveness_check_interval: float = setting(
        0.3, "how often dead clients are looked for", env="LIVENESS_CHECK_INTERVAL", unit="s"
    )
    queue_expire_timeout: float = setting(
        5.0, "signaling for an offline peer waits this long, then EXPIRE", env="QUEUE_EXPIRE_TIMEOUT", unit="s"
    )
    queue_check_interval: float = setting(
        1.0, "how often queued signaling is pruned", env="QUEUE_CHECK_INTERVAL", unit="s"
    )
    concurrent_limit: int = setting(5000, "WebSocket clients at once", env="CONCURRENT_LIMIT")
    queue_limit: int = setting(100, "frames queued for one offline peer", env="QUEUE_LIMIT")

    def __post_init__(self) -> None:
        if not self.no_auth and not self.secret:
            raise ConfigError("set LIGHTHOUSE_SECRET (peers sign the challenge with it) or NO_AUTH=true")
        if self.max_per_layer < 1:
            raise ConfigError(f"MAX_PER_LAYER must be at least 1, got {self.max_per_layer}")
        if len(set(self.id_alphabet)) < 2 or self.id_length < 1:
            raise ConfigError("ID_ALPHABET needs two distinct characters and ID_LENGTH at least 1")
