"""The results service as a Ray actor, with its HTTP gateway on the actor's own event loop.

Peers inside the cluster submit one batch per host per interval and wait for the start signal
through actor calls; anyone else uses the HTTP gateway. Both reach the same `ResultsService`.

Every process that holds a handle of this actor imports this module (Ray loads the class to learn
its methods), peer hosts included: the service (and pyarrow with it) and aiohttp's server are imported
by the actor only.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import ray

from peerperf.results.api import Forwarding
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.influx.relay_stats import RelayStats
from peerperf.results.settings import ResultsSettings

if TYPE_CHECKING:
    from peerperf.httpserver import HttpServer
    from peerperf.results.service import ResultsService

LOOPBACK = "127.0.0.1"


class ResultsActor(Forwarding):
    """Plain class behind the actor (usable without Ray): the results API (`Forwarding`), the gateway's lifecycle."""

    def __init__(self, settings: ResultsSettings, influx: InfluxSettings | None = None) -> None:
        from peerperf.results.assembly import ResultsStack  # here, not at the top: see the module's docstring

        self.stack = ResultsStack.build(settings, influx)
        self.service: ResultsService = self.stack.service
        self._gateway: HttpServer | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def start(self, gateway_host: str | None = None, gateway_port: int = 0) -> int | None:
        """Start periodic flushing and, when a host is given, the HTTP gateway; returns its port."""
        if self._flusher is None:
            self._flusher = asyncio.create_task(self.service.run_flusher())
            self.stack.start()
        if gateway_host is None or self._gateway is not None:
            return None
        from peerperf.httpserver import HttpServer  # here: peer hosts load this module, not aiohttp's server

        self._gateway = HttpServer(self.stack.app(run_flusher=False), gateway_host, gateway_port)
        port = await self._gateway.start()
        if gateway_host != LOOPBACK:  # on a cluster: `ray attach -p PORT` forwards to the head's loopback
            await self._gateway.also_listen(LOOPBACK)
        return port

    async def forward(self, operation: str, *args: Any) -> Any:
        """Every `ResultsApi` operation runs on the service under its own name."""
        return await getattr(self.service, operation)(*args)

    async def relay_stats(self, drain_timeout: float = 0.0) -> RelayStats | None:
        """The InfluxDB relay's counts (None when off), after waiting up to `drain_timeout` s for pending points."""
        if self.stack.relay is None:
            return None
        return await self.stack.relay.drain(drain_timeout) if drain_timeout > 0 else self.stack.relay.stats()

    async def stop(self) -> None:
        """Flush everything and stop the gateway; call before killing the actor."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self._gateway is not None:
            await self._gateway.stop()
            self._gateway = None
        await self.stack.close()


def spawn_results_actor(settings: ResultsSettings, influx: InfluxSettings | None = None, **options: Any) -> Any:
    """Create the results actor (async, many concurrent calls); `options` go to `.options()`."""
    remote_cls = ray.remote(ResultsActor)
    defaults: dict[str, Any] = {"num_cpus": 0, "max_concurrency": 1000, "name": None}
    defaults.update(options)
    return remote_cls.options(**defaults).remote(settings, influx)
