"""A real results gateway on a free loopback port, writing to a temporary folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from peerperf.httpserver import serving
from peerperf.results import ResultsService, ResultsSettings, create_app


def metrics_body(n: int = 1, **extra: Any) -> dict[str, Any]:
    """A metrics body as the original client sent it (every key), with recognisable values."""
    body: dict[str, Any] = {}
    for category in ("sent", "received", "relayed", "all", "relevant", "duplicate", "expired"):
        for suffix in ("", "Total", "PerSecond", "Bytes", "TotalBytes", "BytesPerSecond", "AveragePacketSize"):
            body[f"{category}{suffix}"] = n
    body.update(connectedPeers=["p1", "p2"], knownPeersCount=3, position=[1.5, 0.0, -2.0], averageLatency=4.5)
    body.update(extra)
    return body


@dataclass
class Gateway:
    base: str
    http: aiohttp.ClientSession
    folder: Path
    service: ResultsService

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.base + path, **kwargs) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.text()
            return resp.status, body


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = ResultsSettings(location=str(tmp_path / "results"), flush_interval=0.05)
    service = ResultsService(settings)
    async with serving(create_app(service), "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        yield Gateway(f"http://127.0.0.1:{port}", http, Path(settings.location), service)


@asynccontextmanager
async def document_server(document: dict[str, Any]) -> AsyncIterator[str]:
    """A results server that has one test, `document` as it is (say, what the original server kept); its base URL."""

    async def get(request: web.Request) -> web.Response:
        return web.json_response(document)

    app = web.Application()
    app.router.add_get(f"/test/{document['id']}", get)
    async with serving(app, "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


#: A document the original server could have kept: one datapoint fits peerperf's schema, two do not.
MIXED_DOCUMENT: dict[str, Any] = {
    "id": "mixed",
    "started": 1,
    "finished": 2,
    "dataPoints": [
        {"peerId": "a", "timestamp": 3, "metrics": metrics_body(1)},
        {"peerId": "b", "timestamp": 4, "metrics": {**metrics_body(2), "sent": "many"}},
        {"peerId": "c", "timestamp": 5},
    ],
    "topologyDataPoints": [],
    "results": {},
}
