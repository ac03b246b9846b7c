"""Debian's headless Chromium, kept off the network, to look at what peerperf shows a person.

`render` opens a page and returns its DOM after scripts ran, a screenshot, and every console
message: a test fails on console errors as a person would notice a broken page. `devtools` keeps a
page open and drives it over the DevTools protocol, to watch a live page change over time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from matplotlib.image import imread

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
    # DnsOverHttps: no secure-DNS probes to a public resolver by IP (which host rules cannot map).
    "--disable-features=MediaRouter,OptimizationHints,Translate,DialMediaRouteProvider,DnsOverHttps",
    "--disable-quic",
    "--metrics-recording-only",
    # No name lookups at all: every host name resolves to "not found" without asking a DNS server.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed for browser tests (scripts/test installs it)"
    return path


@dataclass(frozen=True)
class Rendered:
    dom: str
    screenshot: np.ndarray
    console: list[str]

    def looks_blank(self) -> bool:
        """True when the screenshot is (nearly) one colour."""
        return float(self.screenshot[..., :3].std()) < 0.01


def render(url: str, profile: Path, size: tuple[int, int] = (1200, 2400), timeout: float = 120.0) -> Rendered:
    """Load `url`, let its scripts run, and return its DOM, a screenshot and its console messages."""
    common = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=5000", "--dump-dom", url], capture_output=True, text=True, timeout=timeout
    )
    shot = profile / "screenshot.png"
    snap = subprocess.run(
        [*common, "--hide-scrollbars", f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", url],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert shot.exists(), f"Chromium wrote no screenshot:\n{snap.stderr[-2000:]}"
    console = [m.group(1) for line in (dom.stderr + snap.stderr).splitlines() if (m := _CONSOLE.search(line))]
    return Rendered(dom.stdout, imread(shot), console)


class DevTools:
    """One page of a running Chromium, driven over the DevTools protocol: evaluate scripts, collect console errors."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        #: Console errors, uncaught exceptions and failed loads, as text.
        self.errors: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif data.get("method") == "Runtime.consoleAPICalled" and data["params"]["type"] == "error":
                self.errors.append(" ".join(str(a.get("value", a.get("description"))) for a in data["params"]["args"]))
            elif data.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(data["params"]["exceptionDetails"])[:1000])
            elif data.get("method") == "Log.entryAdded" and data["params"]["entry"]["level"] == "error":
                self.errors.append(data["params"]["entry"]["text"])

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        await self._socket.send_json({"id": number, "method": method, "params": params})
        answer = await asyncio.wait_for(future, 30)
        assert "error" not in answer, f"{method}: {answer['error']}"
        result: dict[str, Any] = answer["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        answer = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    async def close(self) -> None:
        await self._socket.close()
        await self._reader  # whatever the reader raised surfaces here


@contextlib.asynccontextmanager
async def devtools(url: str, profile: Path, timeout: float = 60.0) -> AsyncIterator[DevTools]:
    """Open `url` in Chromium (off the network, DevTools on loopback) with console errors collected from the start."""
    proc = await asyncio.create_subprocess_exec(
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():  # bounded poll for Chromium to start
            assert proc.returncode is None and time.monotonic() < deadline, "Chromium did not open DevTools"
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json()
            page = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                tools = DevTools(socket)
                try:
                    await tools.call("Runtime.enable")
                    await tools.call("Log.enable")
                    await tools.call("Page.enable")
                    await tools.call("Page.navigate", url=url)
                    yield tools
                finally:
                    await tools.close()
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
