"""The results service with what watches it: the live page's feed and, when configured, the InfluxDB relay.

One assembly for both ways the service runs (standalone `python -m peerperf.results`, the Ray actor).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from peerperf.results.gateway import create_app
from peerperf.results.influx.relay import InfluxRelay
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.influx.relay_stats import RelayStats
from peerperf.results.livefeed import LiveFeed
from peerperf.results.service import ResultsService
from peerperf.results.settings import ResultsSettings

#: How long stopping waits for the relay to write what is pending.
RELAY_CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class ResultsStack:
    service: ResultsService
    feed: LiveFeed
    relay: InfluxRelay | None

    @classmethod
    def build(cls, settings: ResultsSettings, influx: InfluxSettings | None = None) -> ResultsStack:
        feed = LiveFeed()
        service = ResultsService(settings, [feed])
        relay = None
        if influx is not None and influx.enabled:  # its unexpected failures count in the service's `/status`
            relay = InfluxRelay(influx, supervisor=service.supervisor)
            service.sinks.append(relay)
        return cls(service, feed, relay)

    def app(self, run_flusher: bool = True) -> web.Application:
        """The HTTP gateway with the live page; with `run_flusher` it owns flushing and the relay's lifecycle."""
        app = create_app(self.service, run_flusher, self.feed)
        if run_flusher:
            app.cleanup_ctx.append(self._relay_lifecycle)
        return app

    async def _relay_lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        self.start()
        yield
        await self.close()

    def start(self) -> None:
        if self.relay is not None:
            self.relay.start()

    def relay_stats(self) -> RelayStats | None:
        return None if self.relay is None else self.relay.stats()

    async def close(self) -> RelayStats | None:
        return None if self.relay is None else await self.relay.close(RELAY_CLOSE_TIMEOUT)
