"""The built-in live page at `/` of the results gateway: the tests it holds, live charts of a running test.

The page (`static/live.html`, charts by the vendored uPlot, no CDN) lists tests from `/live/tests`
and follows one through `/live/{id}/events`, a server-sent event stream that first replays the
test's history and then pushes a new sample every `PUSH_PERIOD` s with the verdict so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from importlib import resources
from pathlib import Path

from aiohttp import web

from peerperf.results.livefeed import LiveFeed
from peerperf.results.service import ResultsService

log = logging.getLogger(__name__)

#: Seconds between two pushed samples: the charts move at least once a second.
PUSH_PERIOD = 0.5
STATIC = Path(str(resources.files("peerperf.results") / "static"))

FEED: web.AppKey[LiveFeed] = web.AppKey("live-feed", LiveFeed)
SERVICE: web.AppKey[ResultsService] = web.AppKey("live-service", ResultsService)
CLOSING: web.AppKey[asyncio.Event] = web.AppKey("live-closing", asyncio.Event)


def add_live_page(app: web.Application, service: ResultsService, feed: LiveFeed) -> None:
    """Serve the page, its files and its event streams on `app`."""
    app[FEED], app[SERVICE], app[CLOSING] = feed, service, asyncio.Event()
    app.router.add_get("/", page)
    app.router.add_get("/live/tests", tests)
    app.router.add_get("/live/{test_id}/events", events)
    app.router.add_static("/live/static", STATIC)
    app.on_shutdown.append(_end_streams)


async def _end_streams(app: web.Application) -> None:
    """Open event streams end at shutdown, so the server does not wait for them."""
    app[CLOSING].set()


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "live.html", headers={"Cache-Control": "no-cache"})


async def tests(request: web.Request) -> web.Response:
    """Tests this service has seen since it started (live figures), and finished ones in its folder."""
    feed, service = request.app[FEED], request.app[SERVICE]
    live = [{"id": test_id, **feed.status(test_id)} for test_id in feed.tests()]
    seen = {entry["id"] for entry in live}
    stored = sorted(
        (p.stem for p in service.folder.glob("*.json") if p.stem not in seen), key=lambda s: s, reverse=True
    )
    return web.json_response({"live": live, "stored": stored})


async def events(request: web.Request) -> web.StreamResponse:
    test_id = request.match_info["test_id"]
    feed = request.app[FEED]
    if not feed.knows(test_id):
        await request.app[SERVICE].get_test(test_id)  # 404 for an unknown test; a known one without figures is fine
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    closing = request.app[CLOSING]
    with contextlib.suppress(ConnectionResetError):
        await _send(response, "history", feed.history(test_id))
        while not closing.is_set():
            await _send(response, "sample", feed.sample(test_id))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PUSH_PERIOD):
                    await closing.wait()
    return response


async def _send(response: web.StreamResponse, event: str, data: object) -> None:
    await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
