"""Data channel messages handed straight to one callback, without a pyee dispatch per message.

aiortc hands every received message to `channel.emit("message", data)` (in
`RTCSctpTransport._data_channel_receive`); pyee then copies the listener list under a lock and
checks each listener's result for a coroutine, about 5 µs per message on this machine for a
channel whose only listener is the peer's. `deliver_messages` shadows `emit` on one channel
object: "message" goes straight to the callback (the only message listener), every other event
through pyee as before; once the channel is closed nothing arrives (aiortc drops its listeners then).

That relies on how aiortc calls `emit`, so it is pinned like the SCTP tuning: on another aiortc
release, or when that caller's code changed, the channel gets an ordinary `on("message")` listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from aiortc import RTCDataChannel

from peerperf.peer.aiortc_pins import PINNED_AIORTC, fingerprint

log = logging.getLogger(__name__)

#: The aiortc code that emits "message" (named as `aiortc_pins.fingerprint` takes it) and its fingerprint.
EMITTER = "RTCSctpTransport._data_channel_receive"
EMITTER_FINGERPRINT = "3df88b4b9c662b3b"

MessageCallback = Callable[[bytes | str], None]


def direct_delivery_supported() -> bool:
    """Whether this aiortc emits messages the way `deliver_messages` was written against."""
    return version("aiortc") == PINNED_AIORTC and fingerprint(EMITTER) == EMITTER_FINGERPRINT


_SUPPORTED = direct_delivery_supported()


def deliver_messages(channel: RTCDataChannel, callback: MessageCallback) -> bool:
    """Call `callback(message)` for each message `channel` receives; True when it bypasses pyee."""
    if not _SUPPORTED:
        channel.on("message", callback)
        return False
    pyee_emit = channel.emit

    def emit(event: str, *args: Any, **kwargs: Any) -> bool:
        if event == "message" and channel.readyState != "closed":
            callback(*args, **kwargs)
            return True
        return pyee_emit(event, *args, **kwargs)

    channel.emit = emit  # type: ignore[method-assign]
    return True
