"""HTTP API of the results service (reference section 4), over a `ResultsService`.

The same service object backs the Ray actor's methods when the gateway runs inside the actor,
so HTTP clients and peers in the cluster see one state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from peerperf.httpserver import cors_middleware, json_errors_middleware, read_json_object
from peerperf.results.service import ResultsService

SERVICE: web.AppKey[ResultsService] = web.AppKey("results", ResultsService)
routes = web.RouteTableDef()


def create_app(service: ResultsService, run_flusher: bool = True) -> web.Application:
    """The gateway app; with `run_flusher` it also owns the periodic Parquet flush."""
    app = web.Application(middlewares=[cors_middleware, json_errors_middleware])
    app[SERVICE] = service
    app.add_routes(routes)
    if run_flusher:
        app.cleanup_ctx.append(_flusher)
    return app


async def _flusher(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[SERVICE].run_flusher())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _optional_json(request: web.Request) -> dict[str, object]:
    return await read_json_object(request) if request.can_read_body else {}


@routes.get("/status")
async def status(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.post("/test")
async def create_random(request: web.Request) -> web.Response:
    body = await _optional_json(request)
    info = await request.app[SERVICE].create(None, started=bool(body.get("started")))
    return web.json_response(info.to_json())


@routes.post("/test/{test_id}")
async def create_named(request: web.Request) -> web.Response:
    body = await _optional_json(request)
    info = await request.app[SERVICE].create(request.match_info["test_id"], started=bool(body.get("started")))
    return web.json_response(info.to_json())


@routes.put("/test/{test_id}/start")
async def start(request: web.Request) -> web.Response:
    return web.json_response((await request.app[SERVICE].start(request.match_info["test_id"])).to_json())


@routes.put("/test/{test_id}/finish")
async def finish(request: web.Request) -> web.Response:
    return web.json_response((await request.app[SERVICE].finish(request.match_info["test_id"])).to_json())


@routes.get("/test/{test_id}")
async def get_test(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    test_id = request.match_info["test_id"]
    info = await service.get(test_id)
    if request.query.get("dataPoints") != "true":
        return web.json_response(info.to_json())
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    async for chunk in service.stream_json(test_id):
        await response.write(chunk.encode())
    await response.write_eof()
    return response


@routes.put("/test/{test_id}/peer/{peer_id}/metrics")
async def put_metrics(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    point = await request.app[SERVICE].submit(request.match_info["test_id"], request.match_info["peer_id"], body)
    return web.json_response(point.to_json())
