"""Real peers over aiortc on loopback, against a real lighthouse; all disposed at teardown."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from peerperf.peer import Peer, PeerSettings
from peerperf.protocol.comms import CommsMessage
from peerperf.protocol.packets import Packet
from tests.lighthouse.conftest import LighthouseUnderTest, StartLighthouse, start_lighthouse  # noqa: F401

#: Timers shortened so tests exercise the same code paths in seconds.
FAST = PeerSettings(
    peer_connect_timeout=2.0,
    backoff=0.1,
    heartbeat_interval=0.5,
    network_update_interval=0.5,
    stats_update_interval=0.5,
    expiration_loop_interval=0.5,
)
WAIT = 20.0


async def eventually(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """A bounded polling wait: the mesh converges on its own schedule; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting until {what}"
        await asyncio.sleep(0.05)


async def eventually_async(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    """`eventually` for conditions that need I/O to check (an HTTP call, say)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting until {what}"
        await asyncio.sleep(0.05)


@dataclass
class Inbox:
    """What one peer delivered: (src, room, subtype) -> payloads."""

    received: dict[tuple[str, str, str], list[Any]] = field(default_factory=lambda: defaultdict(list))

    def __call__(self, src: str, room: str, payload: Any, packet: Packet) -> None:
        self.received[src, room, packet.subtype].append(payload)

    def senders(self, subtype: str) -> set[str]:
        return {src for (src, _, kind) in self.received if kind == subtype}


MakePeer = Callable[..., Awaitable[tuple[Peer, Inbox]]]


@pytest.fixture
async def make_peer() -> AsyncIterator[MakePeer]:
    peers: list[Peer] = []

    async def make(
        lighthouse: LighthouseUnderTest,
        peer_id: str,
        layer: str | None = "blue",
        room: str | None = "room",
        settings: PeerSettings = FAST,
        **kwargs: Any,
    ) -> tuple[Peer, Inbox]:
        inbox = Inbox()
        peer = Peer(lighthouse.base, peer_id, settings=settings, on_message=inbox, **kwargs)
        peers.append(peer)
        await peer.connect()
        if layer is not None:
            await peer.set_layer(layer)
        if room is not None:
            await peer.join_room(room)
        return peer, inbox

    yield make
    for peer in peers:
        await peer.dispose()


def comms(payload: Any) -> CommsMessage:
    return CommsMessage.FromString(payload)
