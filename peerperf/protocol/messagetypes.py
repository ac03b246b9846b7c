"""Message-type presets of the peer library (reference 2.4 `messageTypes.ts`).

A message type fixes the relay metadata of every packet sent with it: how many hops it may
travel, how long it stays fresh and whether older copies are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

#: `discardOlderThan` / `expireTime` value meaning "unset" on the wire.
UNSET = -1
#: Default time-to-live in hops.
DEFAULT_TTL = 10
#: The original's `pingTimeout`; pings and pongs expire after it.
PING_TIMEOUT_MS = 7000


@dataclass(frozen=True)
class MessageType:
    """Relay metadata shared by every packet of one kind."""

    #: Packet `subtype`, e.g. `position` or `chat`.
    name: str
    #: Hops a packet may travel; relayed only while `hops < ttl`.
    ttl: int = DEFAULT_TTL
    #: Packet `expireTime` in ms; `UNSET` means the receiver's `messageExpirationTime`.
    expiration_time: int = UNSET
    #: Packet `discardOlderThan` in ms; 0 drops strictly older packets, `UNSET` disables it.
    discard_older_than: int = UNSET
    #: Whether senders append their targets to `receivedBy` before sending.
    optimistic: bool = False


def reliable(name: str) -> MessageType:
    """Packets every peer must see once: tracked for duplicates, 20 s to live."""
    return MessageType(name, expiration_time=20000, discard_older_than=UNSET, optimistic=False)


def unreliable(name: str) -> MessageType:
    """Packets only the newest of which matters (positions): 2 s to live, older ones dropped."""
    return MessageType(name, expiration_time=2000, discard_older_than=0, optimistic=True)


PING = MessageType("ping", expiration_time=PING_TIMEOUT_MS, discard_older_than=0, optimistic=True)
PONG = MessageType("pong", expiration_time=PING_TIMEOUT_MS, discard_older_than=0, optimistic=True)
#: Snapshot B's relay-suspension request: one hop only, never stored.
SUSPEND_RELAY = MessageType("suspendRelay", ttl=1, discard_older_than=0, optimistic=True)
