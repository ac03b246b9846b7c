"""A real lighthouse on a free loopback port, and raw-frame helpers (no project client code)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings, create_app
from peerperf.lighthouse.lighthouse import Lighthouse
from peerperf.lighthouse.websocket_endpoint import LIGHTHOUSE
from peerperf.settings import resolve

#: Bound on every wait for a frame; a conformant server answers within milliseconds.
FRAME_TIMEOUT = 5.0


@dataclass
class RawPeer:
    """A test-side signaling connection speaking raw JSON frames."""

    id: str
    token: str
    ws: aiohttp.ClientWebSocketResponse

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def recv(self) -> dict[str, Any]:
        message = await self.ws.receive(timeout=FRAME_TIMEOUT)
        assert message.type == aiohttp.WSMsgType.TEXT, f"expected a frame, got {message.type!r}"
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def recv_type(self, frame_type: str) -> dict[str, Any]:
        frame = await self.recv()
        assert frame["type"] == frame_type, frame
        return frame

    async def recv_until(self, frame_type: str) -> dict[str, Any]:
        """The next frame of `frame_type`, skipping others (each wait bounded by FRAME_TIMEOUT)."""
        while True:
            frame = await self.recv()
            if frame["type"] == frame_type:
                return frame

    async def closed(self) -> bool:
        """True once the server closes the socket; frames still queued before the close are skipped."""
        while True:
            message = await self.ws.receive(timeout=FRAME_TIMEOUT)
            if message.type != aiohttp.WSMsgType.TEXT:
                return message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Peer-Token": self.token}


@dataclass
class LighthouseUnderTest:
    base: str
    http: aiohttp.ClientSession

    def ws_url(self, **query: str) -> str:
        return f"{self.base.replace('http', 'ws', 1)}/peerjs?" + "&".join(f"{k}={v}" for k, v in query.items())

    async def open(self, peer_id: str, token: str | None = None) -> tuple[RawPeer, str]:
        """Connect and read OPEN; returns the peer and the challenge (not yet validated)."""
        token = token or f"tok-{peer_id}"
        ws = await self.http.ws_connect(self.ws_url(key="peerjs", id=peer_id, token=token))
        peer = RawPeer(peer_id, token, ws)
        opened = await peer.recv_type("OPEN")
        assert isinstance(opened["payload"], str) and opened["payload"]
        return peer, opened["payload"]

    async def connect(self, peer_id: str, validation: Any = "anything") -> RawPeer:
        """Connect and validate (NO_AUTH accepts any payload, but it must be sent)."""
        peer, _ = await self.open(peer_id)
        await peer.send({"type": "VALIDATION", "src": peer_id, "payload": validation})
        await peer.recv_type("VALIDATION_OK")
        return peer

    async def join(self, peer: RawPeer, layer: str = "blue", room: str | None = None) -> list[dict[str, Any]]:
        body = {"id": peer.id, "userId": peer.id, "peerId": peer.id, "protocolVersion": 4}
        async with self.http.put(f"{self.base}/layers/{layer}", json=body, headers=peer.headers) as resp:
            assert resp.status == 200, await resp.text()
            users: list[dict[str, Any]] = await resp.json()
        if room is not None:
            async with self.http.put(
                f"{self.base}/layers/{layer}/rooms/{room}", json=body, headers=peer.headers
            ) as resp:
                assert resp.status == 200, await resp.text()
                users = await resp.json()
        return users


StartLighthouse = Callable[..., Awaitable[LighthouseUnderTest]]


@pytest.fixture
async def start_lighthouse() -> AsyncIterator[StartLighthouse]:
    """Start lighthouses with overridden settings; all stop at teardown."""
    stack: list[Any] = []
    session = aiohttp.ClientSession()

    async def start(**overrides: Any) -> LighthouseUnderTest:
        overrides.setdefault("no_auth", True)
        settings = resolve(LighthouseSettings, environ={}, host="127.0.0.1", port=0, **overrides)
        context = serving(create_app(settings), settings.host, 0)
        port = await context.__aenter__()
        stack.append(context)
        return LighthouseUnderTest(f"http://127.0.0.1:{port}", session)

    yield start
    await session.close()
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


@pytest.fixture
async def lighthouse(start_lighthouse: StartLighthouse) -> LighthouseUnderTest:
    return await start_lighthouse()


@dataclass
class Served:
    http: LighthouseUnderTest
    lighthouse: Lighthouse

    async def harness_errors(self) -> int:
        async with self.http.http.get(f"{self.http.base}/status") as resp:
            count: int = (await resp.json())["harnessErrors"]
            return count


ServeLighthouse = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve_lighthouse() -> AsyncIterator[ServeLighthouse]:
    """Like `start_lighthouse`, with the `Lighthouse` object in reach (its clients, queue, error count)."""
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())

        async def serve(**overrides: Any) -> Served:
            overrides.setdefault("no_auth", True)
            settings = resolve(LighthouseSettings, environ={}, host="127.0.0.1", port=0, **overrides)
            app = create_app(settings)
            port = await stack.enter_async_context(serving(app, "127.0.0.1", 0))
            return Served(LighthouseUnderTest(f"http://127.0.0.1:{port}", http), app[LIGHTHOUSE])

        yield serve


@pytest.fixture
async def served(serve_lighthouse: ServeLighthouse) -> Served:
    return await serve_lighthouse(queue_check_interval=0.05)
