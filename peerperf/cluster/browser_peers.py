"""A run's browser peers (`--browser-peers N --browser-client DIR|URL`), from the driver.

The client folder is served over HTTP from the driver (or the URL is used as it is); browser hosts open
N pages with the original's query parameters (`lighthouseUrl`, `statsServerUrl`, `testId`, `sessionId`,
`numberOfPeers`, `testDuration`, `peerIdLength`). The original page waits for the test to start before
its peer connects, so the start barrier waits for the pages to be loaded and waiting, and after the
start the run waits (up to `--ready-timeout`) for each page's peer to join; a page that never loads,
never joins or crashes is named like a missing or lost peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import ray
from aiohttp import web

from peerperf.cluster.browserhost_actor import BrowserLoad, PageSpec, PageState, spawn_browser_host
from peerperf.cluster.runtime import awaited
from peerperf.config import RunConfig
from peerperf.httpserver import serving

log = logging.getLogger(__name__)

#: How often the pages are asked how they are while the run waits for them.
POLL_INTERVAL = 1.0


def client_app(folder: Path) -> web.Application:
    """The client folder at the root of an HTTP server (the original page loads `/bundle.js`)."""
    index = folder / "index.html"

    async def root(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(index)

    app = web.Application()
    app.router.add_get("/", root)
    app.router.add_static("/", folder)
    return app


def page_url(base: str, query: dict[str, Any]) -> str:
    """`base` (the client's root) with the page's query parameters."""
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


def plan_pages(config: RunConfig, base: str, lighthouse: str, results: str, test_id: str) -> list[list[PageSpec]]:
    """The pages, `--pages-per-browser` to a browser host; one browser peer each."""
    pages = []
    for number in range(config.browser_peers):
        name = f"browser-{number // config.pages_per_browser:04d}/page-{number % config.pages_per_browser}"
        query = {
            "lighthouseUrl": lighthouse,
            "statsServerUrl": results,
            "testId": test_id,
            "sessionId": name,
            "numberOfPeers": 1,
            "testDuration": max(1, round(config.duration)),
            "peerIdLength": config.peer_id_length,
            # Ignored by the original page; a build with the fixture's observer then shows the page's peer
            # ids and what they received by source, so the run can name and report each page's peer.
            "observe": 1,
        }
        pages.append(PageSpec(name, page_url(base, query)))
    return [pages[i : i + config.pages_per_browser] for i in range(0, len(pages), config.pages_per_browser)]


class BrowserPeers:
    """The run's browser hosts and their pages, from start to stop."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.hosts: list[Any] = []
        self.names: list[str] = []
        self._serving = contextlib.AsyncExitStack()
        #: Pages whose peer joined, with the ids they showed (empty without an observer build).
        self.joined: dict[str, list[str]] = {}
        #: Each page's latest state while it was alive.
        self.seen: dict[str, PageState] = {}
        #: Each host's load when the test started (`mark_start`) and when it was last read (`loads`).
        self._start: dict[str, BrowserLoad] = {}
        self._last: dict[str, BrowserLoad] = {}

    async def start(self, lighthouse: str, results: str, test_id: str) -> dict[str, str]:
        """Serve the client (a folder) and open every page; the pages that could not be opened, with why."""
        client = self.config.browser_client or ""
        if Path(client).is_dir():
            host = ray.util.get_node_ip_address()
            port = await self._serving.enter_async_context(serving(client_app(Path(client)), host, 0))
            base = f"http://{host}:{port}/"
        else:
            base = client
        groups = plan_pages(self.config, base, lighthouse, results, test_id)
        self.names = [spec.name for group in groups for spec in group]
        self.hosts = [spawn_browser_host(f"browser-{n:04d}", group) for n, group in enumerate(groups)]
        failed: dict[str, str] = {}
        for answer in await asyncio.gather(*(awaited(h.start.remote()) for h in self.hosts), return_exceptions=True):
            if isinstance(answer, BaseException):
                raise answer
            failed.update(answer)
        return failed

    async def states(self) -> list[PageState]:
        answers = await asyncio.gather(*(awaited(h.states.remote()) for h in self.hosts), return_exceptions=True)
        out: list[PageState] = []
        for host, answer in zip(self.hosts, answers, strict=True):
            if isinstance(answer, BaseException):
                group = [n for n in self.names if n.startswith(f"browser-{self.hosts.index(host):04d}/")]
                out += [PageState(name, False, problem=f"its browser host failed: {answer}") for name in group]
            else:
                out += answer
        self.seen.update({state.name: state for state in out if state.alive})
        return out

    async def wait(self, done: str, timeout: float) -> dict[str, str]:
        """Poll the pages until each is `done` ("loaded": waiting for the start; "joined": its peer joined)
        or `timeout` passes; the pages that are not, with why."""
        deadline = time.monotonic() + timeout
        while True:
            states = await self.states()
            pending = {s.name: s for s in states if not _is(s, done)}
            gone = {name: s.problem or "the page crashed or closed" for name, s in pending.items() if not s.alive}
            if done == "joined":
                self.joined.update({s.name: s.peer_ids for s in states if _is(s, done)})
            if not pending or (gone and len(gone) == len(pending)) or time.monotonic() >= deadline:
                why = "not loaded" if done == "loaded" else "its peer did not join the lighthouse's layer"
                return {name: gone.get(name, f"{why} within {timeout:.0f} s") for name in pending}
            await asyncio.sleep(POLL_INTERVAL)  # bounded poll: the pages say nothing by themselves

    async def lost(self) -> dict[str, str]:
        """Pages that had joined and are not alive now (crashed or killed mid-run), with why."""
        states = {s.name: s for s in await self.states()}
        await self.loads()
        return {
            name: f"browser page stopped: {states[name].problem or 'the page crashed or closed'}"
            for name in self.joined
            if name in states and not states[name].alive
        }

    async def loads(self) -> list[BrowserLoad]:
        """Every answering host's load now (a failed host has none)."""
        answers = await asyncio.gather(*(awaited(h.load.remote()) for h in self.hosts), return_exceptions=True)
        found = [a for a in answers if isinstance(a, BrowserLoad)]
        self._last.update({load.host_id: load for load in found})
        return found

    async def mark_start(self) -> None:
        """Read every host's load at the test's start: its figures cover the test from here."""
        self._start = {load.host_id: load for load in await self.loads()}

    def host_report(self) -> dict[str, Any]:
        """For the test's metadata: each browser host's CPU (% of a core over the test), memory and pages."""
        out = {}
        for host_id, last in sorted(self._last.items()):
            first = self._start.get(host_id)
            span = last.at - first.at if first is not None else 0.0
            cpu = 100 * (last.cpu_seconds - first.cpu_seconds) / span if first is not None and span > 0 else None
            out[host_id] = {
                "cpuPercent": cpu,
                "pssMb": round(last.pss_mb, 1),
                "processes": last.processes,
                "pages": last.pages,
                "pagesAlive": last.pages_alive,
                "seconds": round(span, 2),
                "machineCpus": last.machine_cpus,
                "nodeId": last.node_id,
            }
        return out

    def report(self) -> dict[str, Any]:
        """For the test's metadata: each page's peer ids and the packets they received by source."""
        return {
            name: {"peerIds": state.peer_ids, "receivedBySource": state.received}
            for name, state in sorted(self.seen.items())
        }

    async def stop(self) -> None:
        for host in self.hosts:
            try:
                await asyncio.wait_for(awaited(host.shutdown.remote()), 30)
            except (TimeoutError, ray.exceptions.RayError) as exc:
                log.warning("a browser host did not stop cleanly: %s", exc)
            ray.kill(host)
        self.hosts = []
        await self._serving.aclose()


def _is(state: PageState, done: str) -> bool:
    return state.alive and (state.loaded if done == "loaded" else state.joined > 0)
