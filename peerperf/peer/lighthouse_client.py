"""A peer's link to its lighthouse: the /peerjs WebSocket, heartbeats, HTTP calls and reconnection.

The handshake follows reference 1.3 (ASSIGNED_ID when no id is given, OPEN challenge, VALIDATION,
VALIDATION_OK). When the socket drops, the client retries `reconnection_attempts` times, waiting
`backoff + random(0..backoff)` between tries, then calls `on_reconnected` so the peer re-joins its
layer and rooms; after the last failure it reports `reconnection-error` to `on_status`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from peerperf.errors import LighthouseUnavailable, ProtocolError, RequestError
from peerperf.peer.impairment import SignalingDelay
from peerperf.peer.settings import PeerSettings
from peerperf.protocol.challenge import challenge_signature
from peerperf.protocol.signaling_frames import (
    PEERJS_KEY,
    AssignedIdPayload,
    Frame,
    FrameType,
    HeartbeatPayload,
)
from peerperf.supervision import Supervisor

log = logging.getLogger(__name__)

FrameHandler = Callable[[Frame], None]


def signaling_url(lighthouse_url: str, peer_id: str | None, token: str) -> str:
    """`ws[s]://host:port{path}peerjs?key=peerjs&id=..&token=..`, path forced to start and end with `/`."""
    parts = urlsplit(lighthouse_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
    query = f"key={PEERJS_KEY}&token={token}" + (f"&id={peer_id}" if peer_id else "")
    return urlunsplit((scheme, parts.netloc, f"{path}peerjs", query, ""))


class LighthouseClient:
    """Signaling and HTTP for one peer; frames other than the handshake go to `on_frame`."""

    def __init__(
        self,
        lighthouse_url: str,
        peer_id: str | None,
        token: str,
        settings: PeerSettings,
        on_frame: FrameHandler,
        heartbeat: Callable[[], HeartbeatPayload],
        on_reconnected: Callable[[], Awaitable[None]],
        on_status: Callable[[str], None],
        delay: SignalingDelay | None = None,
        supervisor: Supervisor | None = None,
        first_heartbeat: float | None = None,
    ) -> None:
        self.url = lighthouse_url
        self.peer_id = peer_id
        self.token = token
        self._settings = settings
        self._on_frame = on_frame
        self._heartbeat = heartbeat
        self._on_reconnected = on_reconnected
        self._on_status = on_status
        #: Impaired signaling (`--impair-signaling`): frames both ways go through it.
        self._delay = delay
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        #: Runs the reader, heartbeats, sends and reconnection (the peer's, so its datapoints count the errors).
        self._supervisor = supervisor or Supervisor(lambda: f"peer {self.peer_id}")
        #: Seconds from connecting to the first heartbeat (None: one interval, as the original); a phase.
        self._first_heartbeat = first_heartbeat
        self._closing = False
        self.connected = asyncio.Event()
        self.reconnections = 0

    # ---- connection ---------------------------------------------------------------------------

    async def connect(self) -> str:
        """Open and validate the signaling socket; returns the (possibly assigned) peer id."""
        if self._http is None:
            self._http = aiohttp.ClientSession(headers={"X-Peer-Token": self.token})
        await self._open()
        self._supervisor.repeat(
            self._settings.heartbeat_interval, self._beat, "sending a heartbeat", self._first_heartbeat
        )
        assert self.peer_id is not None
        return self.peer_id

    async def _open(self) -> None:
        assert self._http is not None
        url = signaling_url(self.url, self.peer_id, self.token)
        try:
            ws = await self._http.ws_connect(url, heartbeat=None, autoping=True)
        except (aiohttp.ClientError, OSError) as exc:
            raise LighthouseUnavailable(f"cannot reach the lighthouse at {self.url}: {exc}") from exc
        early: list[Frame] = []
        try:
            await asyncio.wait_for(self._handshake(ws, early), self._settings.connect_wait)
        except TimeoutError:
            await ws.close()
            raise LighthouseUnavailable(
                f"no VALIDATION_OK from {self.url} within {self._settings.connect_wait} s"
            ) from None
        except LighthouseUnavailable:
            await ws.close()
            raise
        self._ws = ws
        self.connected.set()
        for frame in early:  # signaling the lighthouse queued for us, delivered before validation
            self._on_frame(frame)
        self._supervisor.spawn(self._read(ws), "reading the lighthouse's frames")

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse, early: list[Frame]) -> None:
        while True:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                raise LighthouseUnavailable(f"the lighthouse closed the socket during the handshake ({message.type!r})")
            frame = Frame.from_json(message.data)
            if frame.type is FrameType.ASSIGNED_ID:
                self.peer_id = AssignedIdPayload.from_json(frame.payload).id
            elif frame.type is FrameType.OPEN:
                await ws.send_str(
                    Frame(FrameType.VALIDATION, self.peer_id, payload=self._sign(frame.payload)).to_json()
                )
            elif frame.type is FrameType.VALIDATION_OK:
                return
            elif frame.type in (FrameType.VALIDATION_NOK, FrameType.ERROR, FrameType.ID_TAKEN):
                detail = frame.payload.get("msg") if isinstance(frame.payload, dict) else ""
                raise LighthouseUnavailable(f"the lighthouse refused peer {self.peer_id}: {frame.type.value} {detail}")
            else:
                early.append(frame)

    def _sign(self, challenge: Any) -> Any:
        secret = self._settings.auth_secret
        if secret is None or not isinstance(challenge, str):
            return challenge  # the perf test's identity auth handler (NO_AUTH lighthouses)
        return challenge_signature(secret, challenge)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = Frame.from_json(message.data)
            except ProtocolError as exc:
                log.warning("peer %s: bad frame from the lighthouse: %s", self.peer_id, exc)
                continue
            if frame.type is FrameType.ERROR:
                log.warning("peer %s: lighthouse error: %s", self.peer_id, frame.payload)
                continue
            if self._delay is not None:
                self._delay.inbound(len(message.data), functools.partial(self._deliver, frame))
            else:
                self._deliver(frame)
        self.connected.clear()
        if not self._closing:
            log.warning("peer %s: lost the lighthouse; reconnecting", self.peer_id)
            self._supervisor.spawn(self._reconnect(), "reconnecting to the lighthouse")

    def _deliver(self, frame: Frame) -> None:
        """Hand a frame to the peer; one that breaks its handler is reported and the next is read."""
        try:
            self._on_frame(frame)
        except Exception as exc:
            self._supervisor.report(f"taking a {frame.type.value} frame from the lighthouse", exc)

    async def _reconnect(self) -> None:
        backoff = self._settings.backoff
        for attempt in range(1, self._settings.reconnection_attempts + 1):
            await asyncio.sleep(backoff + random.uniform(0, backoff))
            try:
                await self._open()
                self.reconnections += 1
                log.info("peer %s: reconnected on attempt %d", self.peer_id, attempt)
                await self._on_reconnected()
                return
            except (LighthouseUnavailable, RequestError) as exc:
                log.info("peer %s: reconnection attempt %d failed: %s", self.peer_id, attempt, exc)
        self._on_status("reconnection-error")

    def _beat(self) -> None:
        if self.connected.is_set():
            self.send(Frame(FrameType.HEARTBEAT, self.peer_id, payload=self._heartbeat()))

    def send(self, frame: Frame) -> None:
        """Send a frame if the socket is up; signaling while disconnected is dropped (as the original)."""
        ws = self._ws
        if ws is None or ws.closed:
            return
        text = frame.to_json()
        if self._delay is None:
            self._supervisor.spawn(self._send_text(ws, text), "sending signaling")
            return

        def send_later() -> None:
            if not ws.closed:
                self._supervisor.spawn(self._send_text(ws, text), "sending signaling")

        self._delay.outbound(len(text), send_later)

    @staticmethod
    async def _send_text(ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
        try:
            await ws.send_str(text)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            log.debug("signaling send failed: %s", exc)

    # ---- HTTP -----------------------------------------------------------------------------------

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the lighthouse's HTTP API; a refusal raises `RequestError` with its status and message."""
        assert self._http is not None, "connect() first"
        url = self.url.rstrip("/") + path
        try:
            async with self._http.request(method, url, json=body) as resp:
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = None
                if resp.status >= 400:
                    raise RequestError.from_answer(resp.status, answer, f"{method} {path}")
                return answer
        except (aiohttp.ClientError, OSError) as exc:
            raise LighthouseUnavailable(f"{method} {url} failed: {exc}") from exc

    async def close(self) -> None:
        """Stop heartbeats and reconnection, close the socket and the HTTP session."""
        self._closing = True
        if self._delay is not None:
            self._delay.close()
        await self._supervisor.close()
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
            self._http = None
        self.connected.clear()
