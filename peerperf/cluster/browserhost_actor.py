"""The browser host as a Ray actor: one headless Chromium with several pages of a browser client (the
original performance-test page), placed by a `browser_slot` resource as peer hosts are by `peer_slot`.

The original's containers ran ten pages per browser the same way (`run-clients.ts`). Each page is one
browser peer (`numberOfPeers=1`); it waits for the test to start, then connects, joins layer `blue` and
room `room`, and shows how many peers it created in its "Local Peers" field: that is how the run knows
the page's peer joined.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import ray

from peerperf.cluster.devtools import BrowserError, Chromium, Page
from peerperf.cluster.process_tree import tree_usage

log = logging.getLogger(__name__)

#: Custom resource a browser host asks for, one per page; nodes that can run Chromium advertise it.
BROWSER_SLOT = "browser_slot"
#: CPU share reserved per page (scheduling hint: a page of the original client is far heavier than a
#: simulated peer).
CPU_PER_PAGE = 0.05
#: What a page shows: its script ran (the stats list exists), peers it created and joined, and, with the
#: fixture build's observer (`observe=1`; the original page keeps them to itself), their ids and the
#: packets they received by source.
STATE_SCRIPT = """JSON.stringify({
  loaded: document.readyState === "complete" && !!document.getElementById("peers"),
  joined: parseInt((document.getElementById("peers") || {}).innerText || "0") || 0,
  ids: (window.__dclPeers || []).map((p) => p.peerId),
  rx: Object.values(window.__rx || {}).flatMap((r) => Object.entries(r.bySrc).map(
    ([src, bySubtype]) => [src, Object.values(bySubtype).reduce((a, b) => a + b, 0)])),
})"""


@dataclass(frozen=True)
class PageSpec:
    """One page to open: its name (how the run names it when it is missing) and its URL."""

    name: str
    url: str


@dataclass(frozen=True)
class PageState:
    """What one page showed when asked."""

    name: str
    alive: bool
    loaded: bool = False
    joined: int = 0
    peer_ids: list[str] = field(default_factory=list)
    #: Packets the page's peers received, by source peer (observer builds only).
    received: dict[str, int] = field(default_factory=dict)
    problem: str = ""


@dataclass(frozen=True)
class BrowserLoad:
    """The host's own harness figures at one moment: its Chromium's whole process tree and its pages."""

    host_id: str
    pages: int
    pages_alive: int
    #: CPU time the Chromium tree used so far, and when this was read (monotonic, the host's clock).
    cpu_seconds: float
    at: float
    pss_mb: float
    processes: int
    #: The cores of the host's machine and its Ray node: the verdict judges the tree's CPU against the
    #: share of those cores each browser host on the node has.
    machine_cpus: int | None = None
    node_id: str = ""


class BrowserHostWorker:
    """One Chromium and its pages; the plain class the actor wraps (usable without Ray)."""

    def __init__(self, host_id: str, pages: list[PageSpec]) -> None:
        self.host_id = host_id
        self.node_id = ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""
        self.specs = pages
        self.chromium: Chromium | None = None
        self.pages: dict[str, Page] = {}
        #: Pages that could not be opened, with why.
        self.failed: dict[str, str] = {}

    async def start(self) -> dict[str, str]:
        """Start Chromium and open every page; the pages that could not be opened, with why."""
        try:
            self.chromium = await Chromium.start()
        except (BrowserError, OSError) as exc:
            self.failed = {spec.name: f"Chromium did not start: {exc}" for spec in self.specs}
            return self.failed
        for spec in self.specs:
            try:
                self.pages[spec.name] = await self.chromium.open(spec.url)
            except (BrowserError, OSError, ValueError, KeyError) as exc:
                self.failed[spec.name] = f"the page did not open: {exc}"
        return self.failed

    async def states(self) -> list[PageState]:
        """Every page's state now: a page that crashed, closed or stopped answering is not alive."""
        out = [PageState(name, False, problem=why) for name, why in self.failed.items()]
        for name, page in self.pages.items():
            if not page.alive:
                out.append(PageState(name, False, problem="the page crashed or closed"))
                continue
            try:
                seen = _parse(await page.evaluate(STATE_SCRIPT))
            except BrowserError as exc:
                out.append(PageState(name, page.alive, problem=str(exc)))
                continue
            received: dict[str, int] = {}
            for source, count in seen["rx"]:
                received[str(source)] = received.get(str(source), 0) + int(count)
            out.append(PageState(name, True, bool(seen["loaded"]), int(seen["joined"]), list(seen["ids"]), received))
        return out

    def load(self) -> BrowserLoad:
        """CPU and memory of the Chromium tree, and how many pages are alive."""
        pids = self.chromium.pids() if self.chromium is not None else []
        usage = tree_usage(pids[0]) if pids else None
        alive = sum(page.alive for page in self.pages.values())
        return BrowserLoad(
            self.host_id,
            len(self.specs),
            alive,
            usage.cpu_seconds if usage else 0.0,
            time.monotonic(),
            usage.pss_mb if usage else 0.0,
            usage.processes if usage else 0,
            os.cpu_count(),
            self.node_id,
        )

    async def shutdown(self) -> None:
        if self.chromium is not None:
            await self.chromium.close()
            self.chromium = None


def _parse(text: Any) -> dict[str, Any]:
    value = json.loads(text) if isinstance(text, str) else None
    if not isinstance(value, dict):
        raise BrowserError(f"the page answered {text!r}")
    return value


def spawn_browser_host(host_id: str, pages: list[PageSpec]) -> Any:
    """One browser host actor for `pages`, asking for a `browser_slot` per page and spread over nodes."""
    remote_cls = ray.remote(BrowserHostWorker)
    return remote_cls.options(
        num_cpus=CPU_PER_PAGE * len(pages),
        resources={BROWSER_SLOT: len(pages)},
        scheduling_strategy="SPREAD",
        max_concurrency=16,
    ).remote(host_id, pages)
