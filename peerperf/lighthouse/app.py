"""Assembles the lighthouse aiohttp application: routes, middlewares and background loops."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from peerperf import openapi
from peerperf.httpserver import service_app
from peerperf.lighthouse.lighthouse import Lighthouse
from peerperf.lighthouse.routes import routes
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.lighthouse.websocket_endpoint import LIGHTHOUSE, websocket_handler

log = logging.getLogger(__name__)


def create_app(settings: LighthouseSettings) -> web.Application:
    """A lighthouse app; state lives in `app[LIGHTHOUSE]`, loops start and stop with the app."""
    app = service_app()
    app[LIGHTHOUSE] = Lighthouse(settings)
    app.router.add_get("/peerjs", websocket_handler)
    app.router.add_routes(routes)
    app.router.add_routes([openapi.route("peerperf.lighthouse")])
    app.cleanup_ctx.append(_background_loops)
    app.on_shutdown.append(_close_sockets)
    return app


async def _background_loops(app: web.Application) -> AsyncIterator[None]:
    lighthouse = app[LIGHTHOUSE]
    settings = lighthouse.settings

    async def drop_dead() -> None:
        for client in lighthouse.dead_clients():
            log.info("peer %s sent no HEARTBEAT for %.0f s; dropping it", client.id, settings.alive_timeout)
            lighthouse.disconnect(client)
            await client.close()

    async def expire() -> None:
        lighthouse.expire_queued()

    lighthouse.supervisor.repeat(settings.liveness_check_interval, drop_dead, "dropping silent clients")
    lighthouse.supervisor.repeat(settings.queue_check_interval, expire, "expiring queued signaling")
    yield
    await lighthouse.supervisor.close()


async def _close_sockets(app: web.Application) -> None:
    for client in list(app[LIGHTHOUSE].clients.values()):
        await client.ws.close(code=1001, message=b"lighthouse shutting down")
