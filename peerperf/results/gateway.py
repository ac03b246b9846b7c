"""HTTP API of the results service (reference section 4), over a `ResultsService`: the original's
routes and bodies, each served by a handler named after the results API operation it carries.

The same service object backs the Ray actor's methods when the gateway runs inside the actor,
so HTTP clients and peers in the cluster see one state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from peerperf import openapi
from peerperf.errors import RequestError
from peerperf.httpserver import read_json, read_json_object, service_app
from peerperf.results.auth import token_middleware
from peerperf.results.intake import encode_json, parse_object
from peerperf.results.livefeed import LiveFeed
from peerperf.results.livepage import add_live_page
from peerperf.results.service import ResultsService

SERVICE: web.AppKey[ResultsService] = web.AppKey("results", ResultsService)
routes = web.RouteTableDef()


def create_app(service: ResultsService, run_flusher: bool = True, feed: LiveFeed | None = None) -> web.Application:
    """The gateway app; with `run_flusher` it also owns the periodic flush of records to disk, with `feed`
    (a sink of `service`) it serves the live page at `/`."""
    app = service_app(service.settings.max_body_size)
    logging.getLogger("aiohttp.access").setLevel(logging.INFO if service.settings.access_log else logging.WARNING)
    if service.settings.token:
        app.middlewares.append(token_middleware(service.settings.token))
    app[SERVICE] = service
    app.add_routes(routes)
    app.add_routes([openapi.route("peerperf.results")])
    if feed is not None:
        add_live_page(app, service, feed)
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


async def _stream_test(request: web.Request, test_id: str) -> web.StreamResponse:
    """The whole test, streamed: memory stays flat however many datapoints it holds."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    async for chunk in request.app[SERVICE].stream_json(test_id):
        await response.write(chunk.encode())
    await response.write_eof()
    return response


# Each handler is named after the results API operation it serves (`peerperf.results.api`); a batch
# travels as one request per record, answered with the stored record as the original did.
# Registered first: aiohttp tries the routes under /test in registration order, and this one gets nearly every request.
@routes.put("/test/{test_id}/peer/{peer_id}/metrics")
async def submit_batch(request: web.Request) -> web.Response:
    """One datapoint, the hot route: parsed, validated and answered by msgspec; a body it refuses is read as before."""
    body = parse_object(await request.read()) or await read_json_object(request)
    point = await request.app[SERVICE].submit_one(request.match_info["test_id"], request.match_info["peer_id"], body)
    return web.Response(body=encode_json(point.to_json()), content_type="application/json")


@routes.get("/status")
async def status(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "harnessErrors": request.app[SERVICE].supervisor.errors})


@routes.get("/time")
async def server_time_ms(request: web.Request) -> web.Response:
    """The server's wall clock (ms), so peers on other hosts can estimate their clock offset."""
    return web.json_response({"now": await request.app[SERVICE].server_time_ms()})


@routes.post("/test")
@routes.post("/test/{test_id}")
async def create_test(request: web.Request) -> web.Response:
    """A test with the given id, or a random one."""
    body = await _optional_json(request)
    info = await request.app[SERVICE].create_test(request.match_info.get("test_id"), started=bool(body.get("started")))
    return web.json_response(info.to_json())


@routes.put("/test/{test_id}/start")
async def start_test(request: web.Request) -> web.Response:
    return web.json_response((await request.app[SERVICE].start_test(request.match_info["test_id"])).to_json())


@routes.put("/test/{test_id}/metadata")
async def set_metadata(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    info = await request.app[SERVICE].set_metadata(request.match_info["test_id"], body)
    return web.json_response(info.to_json())


@routes.put("/test/{test_id}/finish")
async def finish_test(request: web.Request) -> web.StreamResponse:
    """Finish and answer the whole test, as the original did."""
    test_id = request.match_info["test_id"]
    await request.app[SERVICE].finish_test(test_id)
    return await _stream_test(request, test_id)


@routes.get("/test/{test_id}")
async def get_test(request: web.Request) -> web.StreamResponse:
    test_id = request.match_info["test_id"]
    info = await request.app[SERVICE].get_test(test_id)
    if request.query.get("dataPoints") != "true":
        return web.json_response(info.to_json())
    return await _stream_test(request, test_id)


@routes.put("/test/{test_id}/peer/{peer_id}/results")
async def submit_results(request: web.Request) -> web.Response:
    """A peer's final results, stored as `results[peerId] = {...body, timestamp}`."""
    body = await read_json_object(request)
    entry = await request.app[SERVICE].submit_results_one(
        request.match_info["test_id"], request.match_info["peer_id"], body
    )
    return web.json_response(entry.to_json())


@routes.put("/test/{test_id}/topology")
async def submit_topology(request: web.Request) -> web.Response:
    """A topology snapshot (any JSON object or array, as express.json() accepted)."""
    body = await read_json(request)
    if not isinstance(body, dict | list):
        raise RequestError(400, "bad-request", "body must be a JSON object or array")
    test_id = request.match_info["test_id"]
    await request.app[SERVICE].submit_topology(test_id, body)
    info = await request.app[SERVICE].get_test(test_id)
    return web.json_response({"id": info.id, "started": info.started})
