"""Debian's headless Chromium, driven over the DevTools protocol with aiohttp (no browser download, no
driver binary, no new dependency): start it, open pages, evaluate scripts in them, see them crash.

The flags keep it quiet and on this machine's addresses: no name lookups (every host name is "not
found", so the original page's public STUN servers are never asked), no background traffic, WebRTC host
candidates as real addresses (loopback allowed) instead of mDNS names, and no throttling of pages that
are not in front (each page ticks at 60 Hz). WebRTC still gathers every interface's address: to keep
browser peers on loopback, run where loopback is the only interface (a network namespace).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from peerperf.errors import PeerperfError

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-features=MediaRouter,OptimizationHints,Translate,DialMediaRouteProvider,DnsOverHttps,"
    "WebRtcHideLocalIpsWithMdns",
    "--disable-quic",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--allow-loopback-in-peer-connection",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)
#: How long Chromium may take to open its DevTools port, and one DevTools call to be answered.
START_TIMEOUT = 60.0
CALL_TIMEOUT = 30.0


class BrowserError(PeerperfError):
    """Chromium is missing, did not start, or a page did not answer."""


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise BrowserError("browser peers need Debian's chromium (apt-get install chromium)")
    return path


class Page:
    """One page over its DevTools websocket: evaluate scripts; `alive` until it crashes or goes."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.crashed = False
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif data.get("method") == "Inspector.targetCrashed":
                self.crashed = True
        for future in self._waiting.values():
            future.set_exception(BrowserError("the page closed"))

    @property
    def alive(self) -> bool:
        """Not crashed, and its DevTools connection still open (a killed renderer closes it)."""
        return not self.crashed and not self._reader.done()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        if self._reader.done():
            raise BrowserError("the page is gone")
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        await self._socket.send_json({"id": number, "method": method, "params": params})
        try:
            answer = await asyncio.wait_for(future, CALL_TIMEOUT)
        except TimeoutError:
            raise BrowserError(f"{method}: no answer within {CALL_TIMEOUT:.0f} s") from None
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        answer = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise BrowserError(f"script failed: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    async def close(self) -> None:
        await self._socket.close()
        with contextlib.suppress(Exception):
            await self._reader


class Chromium:
    """One headless Chromium process with its own profile; `open(url)` adds a page."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, profile: tempfile.TemporaryDirectory[str]) -> None:
        self.proc = proc
        self.port = port
        self._profile = profile
        self._http = aiohttp.ClientSession()
        self.pages: list[Page] = []

    @classmethod
    async def start(cls) -> Chromium:
        profile = tempfile.TemporaryDirectory(prefix="peerperf-chromium-")
        proc = await asyncio.create_subprocess_exec(
            chromium_path(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile.name}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port_file = Path(profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists() or not port_file.read_text().strip():  # bounded poll for its port
            if proc.returncode is not None or time.monotonic() > deadline:
                if proc.returncode is None:
                    proc.kill()
                await proc.wait()
                profile.cleanup()
                raise BrowserError(f"Chromium did not open DevTools within {START_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)
        return cls(proc, int(port_file.read_text().split()[0]), profile)

    async def open(self, url: str) -> Page:
        async with self._http.put(f"http://127.0.0.1:{self.port}/json/new?{quote(url, safe='')}") as resp:
            target = await resp.json(content_type=None)
        socket = await self._http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(socket)
        await page.call("Runtime.enable")
        await page.call("Inspector.enable")
        self.pages.append(page)
        return page

    def pids(self) -> list[int]:
        """Chromium's process id (its renderers are its children)."""
        return [self.proc.pid] if self.proc.returncode is None else []

    async def close(self) -> None:
        for page in self.pages:
            await page.close()
        await self._http.close()
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        self._profile.cleanup()
