"""The embedded lighthouse as a Ray actor, listening on its node's address."""

from __future__ import annotations

import ray

from peerperf.httpserver import HttpServer
from peerperf.lighthouse import LighthouseSettings, create_app


class LighthouseActor:
    """The lighthouse on an actor's event loop (plain class; the orchestrator wraps it with `ray.remote`)."""

    def __init__(self, settings: LighthouseSettings) -> None:
        self.settings = settings
        self._server: HttpServer | None = None

    async def start(self) -> str:
        """Start serving; returns the URL peers use (the node's address, the bound port)."""
        host = self.settings.host or ray.util.get_node_ip_address()
        self._server = HttpServer(create_app(self.settings), host, self.settings.port)
        await self._server.start()
        return self._server.url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None
