"""One mixed room: original browser clients and peerperf's simulated peers on peerperf's servers.

peerperf's lighthouse and results service run in this process on 127.0.0.1. A peer host (the plain
class a run's Ray actor wraps) holds the Python peers, default routine, results over HTTP. Headless
Chromium opens the original performance-test page (`shared/original/client`, served from here) once per
browser peer, with `observe=1`, so `window.__rx` counts what each page's peer received, by source. All
join layer `blue`, room `room`, and wait for the test, which starts once both kinds are ready. The
session ends when every peer of each kind has received app messages from every peer of the other kind
and every peer's datapoints reached the results service (or at a deadline), and prints one JSON line.

Run as `python -m tests.compat.original_mix_session ORIGINAL_DIR` inside a network namespace that has only
loopback (tests/compat/test_original_clients.py does): Chromium binds every interface it finds, and
the original page lists public STUN servers (their names do not resolve here: no traffic leaves).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings
from peerperf.lighthouse import create_app as lighthouse_app
from peerperf.peer import PeerSettings
from peerperf.peer.settings import DATA_PATHS
from peerperf.protocol.ids import random_id
from peerperf.protocol.packets import Packet
from peerperf.results import ResultsService, ResultsSettings
from peerperf.results import create_app as results_app
from peerperf.results.client import HttpResultsClient
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig, PeerSpec
from tests.browser import CHROMIUM_FLAGS, DevTools, chromium

log = logging.getLogger(__name__)
TEST_ID = "original-mix"
#: WebRTC on loopback: loopback candidates allowed, real host addresses instead of mDNS names (aioice
#: cannot resolve those), and pages that are not in front keep their timers (each page ticks at 60 Hz).
WEBRTC_FLAGS = (
    *(f"{f},WebRtcHideLocalIpsWithMdns" if f.startswith("--disable-features=") else f for f in CHROMIUM_FLAGS),
    "--allow-loopback-in-peer-connection",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)
#: Per receiving browser peer: source -> packets (every subtype), from the page's observer.
RX_SCRIPT = """JSON.stringify({
  rx: Object.fromEntries(Object.entries(window.__rx || {}).map(([id, r]) => [id, Object.fromEntries(
    Object.entries(r.bySrc).map(([src, s]) => [src, Object.values(s).reduce((a, b) => a + b, 0)]))])),
  peers: (window.__dclPeers || []).map((p) => p.peerId),
  errors: window.__rxErrors || [],
})"""


@dataclass
class Mix:
    """What the session saw: who is who, who received what from whom, and what the results service holds."""

    python_ids: list[str]
    browser_ids: list[str] = field(default_factory=list)
    #: Receiver -> source -> packets (browser side: every packet decoded; Python side: app messages delivered).
    received: dict[str, Counter[str]] = field(default_factory=dict)
    #: Peer -> every peer it listed as connected in any of its datapoints.
    connected: dict[str, set[str]] = field(default_factory=dict)
    datapoints: Counter[str] = field(default_factory=Counter)
    #: Peer -> the `kind` the results service stored on its datapoints.
    kinds: dict[str, str] = field(default_factory=dict)
    #: Packets a page's observer could not decode (it decodes each as the original `Packet`).
    decode_errors: list[str] = field(default_factory=list)
    #: Console errors and uncaught exceptions of the pages (context for a failure, not a verdict).
    console_errors: list[str] = field(default_factory=list)
    #: The Python peers' data path, and per Python peer the SCTP packets from original clients its compiled
    #: path took (0 on the other paths), read just before the host stops.
    data_path: str = "stock"
    compiled_from_browsers: dict[str, int] = field(default_factory=dict)

    def heard(self, receivers: list[str], sources: list[str]) -> bool:
        """Every receiver got something from every source."""
        return all(self.received.get(r, Counter())[s] > 0 for r in receivers for s in sources)

    def done(self) -> bool:
        both = len(self.browser_ids) > 0 and len(self.python_ids) > 0
        every = set(self.browser_ids) | set(self.python_ids)
        return (
            both
            and self.heard(self.browser_ids, self.python_ids)
            and self.heard(self.python_ids, self.browser_ids)
            and every <= {peer for peer, count in self.datapoints.items() if count > 0}
        )

    def report(self) -> dict[str, Any]:
        return {
            "python_ids": self.python_ids,
            "browser_ids": self.browser_ids,
            "received": {peer: dict(sources) for peer, sources in self.received.items()},
            "connected": {peer: sorted(ids) for peer, ids in self.connected.items()},
            "datapoints": dict(self.datapoints),
            "kinds": self.kinds,
            "decode_errors": self.decode_errors[:10],
            "console_errors": self.console_errors[:10],
            "data_path": self.data_path,
            "compiled_from_browsers": self.compiled_from_browsers,
        }


@contextlib.asynccontextmanager
async def browser_pages(urls: list[str], profile: Path) -> AsyncIterator[list[DevTools]]:
    """One headless Chromium with a page per url, each driven over the DevTools protocol."""
    proc = await asyncio.create_subprocess_exec(
        chromium(),
        *WEBRTC_FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():  # bounded poll for Chromium to start
            assert proc.returncode is None and time.monotonic() < deadline, "Chromium did not open DevTools"
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(aiohttp.ClientSession())
            pages = []
            for url in urls:
                async with http.put(f"http://127.0.0.1:{port}/json/new?{quote(url, safe='')}") as resp:
                    target = await resp.json()
                socket = await stack.enter_async_context(
                    http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
                )
                page = DevTools(socket)
                stack.push_async_callback(page.close)
                await page.call("Runtime.enable")
                pages.append(page)
            yield pages
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def _observe_python_peers(host: PeerHost, mix: Mix) -> None:
    """Count, per Python peer, the app messages delivered to it by source (as the page's observer does)."""
    for sim in host.sims:
        sim.on_message = _counting(sim.on_message, mix.received.setdefault(sim.id, Counter()))  # type: ignore[method-assign]


def _compiled_from(host: PeerHost, sources: list[str]) -> dict[str, int]:
    """Per Python peer, the SCTP packets from `sources` that its compiled data path took."""
    return {
        sim.id: sum(
            getattr(getattr(connection.pc.sctp.transport, "_peerperf_fast", None), "compiled", 0)
            for connection in sim.peer.connections
            if connection.remote_id in sources and connection.pc.sctp is not None
        )
        for sim in host.sims
    }


def _counting(deliver: Callable[..., None], counts: Counter[str]) -> Callable[..., None]:
    def counted(src: str, room: str, payload: Any, packet: Packet) -> None:
        counts[src] += 1
        deliver(src, room, payload, packet)

    return counted


async def _look(pages: list[DevTools], service_base: str, http: aiohttp.ClientSession, mix: Mix) -> None:
    """Refresh `mix` from the pages' observers and the results service's datapoints."""
    mix.decode_errors, mix.console_errors = [], []
    for page in pages:
        seen = json.loads(await page.evaluate(RX_SCRIPT))
        mix.browser_ids = sorted(set(mix.browser_ids) | set(seen["peers"]))
        mix.decode_errors += seen["errors"]
        mix.console_errors += page.errors
        for peer, sources in seen["rx"].items():
            mix.received[peer] = Counter(sources)
    async with http.get(f"{service_base}/test/{TEST_ID}?dataPoints=true") as resp:
        document = await resp.json()
    mix.datapoints = Counter(point["peerId"] for point in document.get("dataPoints", []))
    for point in document.get("dataPoints", []):
        mix.connected.setdefault(point["peerId"], set()).update(point["metrics"].get("connectedPeers") or [])
        mix.kinds[point["peerId"]] = point["metrics"].get("kind", "")


async def run(original: Path, browser_peers: int, python_peers: int, timeout: float, data_path: str) -> dict[str, Any]:
    """Put both kinds in one room on peerperf's servers until each hears the other; what was seen."""
    client_dir = original / "client"
    assert (client_dir / "bundle.js").exists(), f"no original client in {client_dir}"
    with tempfile.TemporaryDirectory() as folder:
        static = web.Application()

        async def index(_request: web.Request) -> web.StreamResponse:
            return web.FileResponse(client_dir / "index.html")

        static.router.add_get("/", index)
        static.router.add_static("/", client_dir)
        service = ResultsService(ResultsSettings(location=str(Path(folder) / "results"), flush_interval=0.2))
        async with (
            serving(lighthouse_app(LighthouseSettings(no_auth=True)), "127.0.0.1", 0) as lighthouse_port,
            serving(results_app(service), "127.0.0.1", 0) as results_port,
            serving(static, "127.0.0.1", 0) as page_port,
            aiohttp.ClientSession() as http,
        ):
            lighthouse, results = f"http://127.0.0.1:{lighthouse_port}", f"http://127.0.0.1:{results_port}"
            client = HttpResultsClient(results)
            await client.create_test(TEST_ID)  # not started: both kinds wait for it, as in the original's test
            specs = [
                PeerSpec(i, random_id(42), "default", "blue", "room", (float(4 * i), 0.0, 0.0))
                for i in range(python_peers)
            ]
            settings = PeerSettings(data_path=data_path)
            host = PeerHost(HostConfig("python-host", lighthouse, settings, stats_interval=2.0), specs)
            mix = Mix([spec.peer_id for spec in specs], data_path=data_path)
            hosting: asyncio.Task[int] | None = None
            try:
                ready = (await host.setup()).ready
                assert sorted(ready) == sorted(mix.python_ids), f"Python peers not ready: {host.failed}"
                _observe_python_peers(host, mix)
                hosting = asyncio.create_task(host.run(client, TEST_ID, duration=timeout, start_timeout=60))
                query = {
                    "lighthouseUrl": lighthouse,
                    "statsServerUrl": results,
                    "testId": TEST_ID,
                    "numberOfPeers": 1,
                    "testDuration": int(timeout),
                    "observe": 1,
                }
                urls = [f"http://127.0.0.1:{page_port}/?{urlencode(query)}"] * browser_peers
                async with browser_pages(urls, Path(folder) / "chromium") as pages:
                    await client.start_test(TEST_ID)
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline and not (mix.done() and len(mix.browser_ids) == browser_peers):
                        assert not hosting.done(), "the peer host stopped early"
                        await asyncio.sleep(1.0)  # bounded poll of what both sides have seen
                        await _look(pages, results, http, mix)
                    mix.compiled_from_browsers = _compiled_from(host, mix.browser_ids)
                host.stop()
                await hosting
            finally:
                if hosting is not None and not hosting.done():  # a failure above: end the host's run too
                    host.stop()
                    await asyncio.gather(hosting, return_exceptions=True)
                await host.shutdown()
                await client.close()
    return mix.report()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("original", type=Path, help="the original system's folder (shared/original)")
    parser.add_argument("--browser-peers", type=int, default=3, help="original client pages (one peer each)")
    parser.add_argument("--python-peers", type=int, default=3, help="peerperf simulated peers")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds for both kinds to hear each other")
    parser.add_argument("--data-path", choices=DATA_PATHS, default=PeerSettings().data_path, help="the Python peers'")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = asyncio.run(run(args.original, args.browser_peers, args.python_peers, args.timeout, args.data_path))
    print(json.dumps(report))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
