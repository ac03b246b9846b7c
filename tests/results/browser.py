"""A real headless Chromium opening a page served from its own origin, for cross-origin tests.

The page reports back by POSTing JSON to its own server, which resolves a future: the test waits
on that (bounded), not on a sleep. Flags keep Chromium off the network (ENVIRONMENT.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from peerperf.httpserver import serving
from tests.browser import CHROMIUM_FLAGS, chromium


@contextlib.asynccontextmanager
async def page_reporting(html: str, profile: Path, timeout: float = 60.0) -> AsyncIterator[asyncio.Future[Any]]:
    """Serve `html` at `/` on its own loopback port, open it in Chromium; yield the future of its report."""
    report: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    async def receive(request: web.Request) -> web.Response:
        if not report.done():
            report.set_result(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/report", receive)
    async with serving(app, "127.0.0.1", 0) as port:
        proc = await asyncio.create_subprocess_exec(
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"http://127.0.0.1:{port}/",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(asyncio.shield(report), timeout)
            yield report
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
